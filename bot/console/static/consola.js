// Staff console: live updates by server-sent events, heartbeat, browser notifications. No external assets.
// Wording comes from the page (data-* attributes of #novedad); HTML fragments come escaped from the server.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf"]');
  if (!meta) { return; }
  var csrf = meta.getAttribute("content");
  var pagina = document.body.getAttribute("data-pagina");
  var novedad = document.getElementById("novedad");
  var tituloOriginal = document.title;
  var pendientes = 0;

  function latido() {
    fetch("/consola/latido", { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
      .catch(function () {});
  }
  latido();
  setInterval(latido, 30000);

  var activar = document.getElementById("activar-avisos");
  if (activar && window.Notification && Notification.permission === "default") {
    activar.hidden = false;
    activar.addEventListener("click", function () {
      Notification.requestPermission().then(function () { activar.hidden = true; });
    });
  }

  function avisar(clave) {
    var texto = novedad.getAttribute("data-" + clave) || "";
    pendientes += 1;
    document.title = "(" + pendientes + ") " + tituloOriginal;
    novedad.textContent = texto;
    novedad.hidden = false;
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      try { new Notification("Chasqui", { body: texto, tag: "chasqui-" + clave }); } catch (e) { /* unsupported */ }
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { pendientes = 0; document.title = tituloOriginal; }
  });

  // Queue page: the rows are fetched again (server-rendered) whenever a conversation changes.
  var filas = document.getElementById("filas");
  function refrescarCola() {
    if (!filas) { return; }
    var vistos = {};
    filas.querySelectorAll("[data-caso]").forEach(function (f) { vistos[f.getAttribute("data-caso")] = true; });
    fetch("/consola/cola/filas?vista=" + encodeURIComponent(filas.getAttribute("data-vista")), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        filas.innerHTML = html;
        filas.querySelectorAll("[data-caso]").forEach(function (f) {
          if (!vistos[f.getAttribute("data-caso")]) { f.classList.add("caso-nuevo"); }
        });
      })
      .catch(function () {});
  }

  // Conversation page: new lines are appended; a change of state asks for a reload.
  var atencion = document.getElementById("atencion");
  var transcripcion = document.getElementById("transcripcion");
  var caso = atencion ? atencion.getAttribute("data-caso") : null;
  var cargando = false;
  function traerMensajes() {
    if (!atencion || cargando) { return; }
    cargando = true;
    var despues = atencion.getAttribute("data-ultimo") || "0";
    fetch("/consola/atenciones/" + caso + "/mensajes?despues=" + encodeURIComponent(despues), { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { return Promise.reject(r.status); }
        var ultimo = r.headers.get("X-Ultimo");
        return r.text().then(function (html) {
          if (html.trim()) {
            transcripcion.insertAdjacentHTML("beforeend", html);
            transcripcion.scrollTop = transcripcion.scrollHeight;
          }
          if (ultimo) { atencion.setAttribute("data-ultimo", ultimo); }
        });
      })
      .catch(function () {})
      .then(function () { cargando = false; });
  }
  if (transcripcion) { transcripcion.scrollTop = transcripcion.scrollHeight; }

  // The agent's own action reloads the page itself (the form's answer): no second reload for its event.
  var enviando = false;
  document.addEventListener("submit", function () { enviando = true; });

  function escribiendo() {
    var campos = document.querySelectorAll("textarea");
    for (var i = 0; i < campos.length; i++) { if (campos[i].value.trim()) { return true; } }
    return false;
  }

  if (!window.EventSource) { return; }
  var fuente = new EventSource("/consola/eventos");
  ["nueva", "tomada", "transferida", "devuelta", "cerrada", "mensaje"].forEach(function (tipo) {
    fuente.addEventListener(tipo, function (evento) {
      var datos = {};
      try { datos = JSON.parse(evento.data); } catch (e) { return; }
      if (tipo === "nueva") { avisar("nueva"); }
      if (pagina === "cola" && tipo !== "mensaje") { refrescarCola(); }
      if (pagina === "atencion" && String(datos.caso) === caso) {
        if (tipo === "mensaje") {
          traerMensajes();
          if (document.hidden) { avisar("mensaje"); }
        } else if (enviando) {
          return;
        } else if (escribiendo()) {
          avisar("cambio");
        } else {
          window.location.reload();
        }
      }
    });
  });
  document.body.setAttribute("data-en-vivo", "1");
  fuente.addEventListener("open", function () { document.body.setAttribute("data-conectado", "1"); });
})();
