// Web chat for Chasqui: plain DOM, no external assets, keyboard and screen-reader friendly.
(function () {
  "use strict";
  var lista = document.getElementById("conversacion");
  var formulario = document.getElementById("formulario");
  var entrada = document.getElementById("mensaje");
  var estado = document.getElementById("estado");
  var botonArchivo = document.getElementById("adjuntar");
  var archivo = document.getElementById("archivo");
  var MAXIMO_ARCHIVO = 5 * 1024 * 1024;  // the gateway's limit for a photo or PDF to verify
  var TIPOS_ARCHIVO = ["application/pdf", "image/png", "image/jpeg"];  // what the gateway can verify

  function nuevoId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  // The chat's id is kept in this browser so a reload keeps the conversation. On a shared computer the next
  // person must not inherit it: «cerrar sesión» and a pause longer than an identity link lasts start anew.
  var minutosSesion = Number(document.body.getAttribute("data-sesion-minutos") || "60");
  var remitente = localStorage.getItem("chasqui.remitente");
  var actividad = Number(localStorage.getItem("chasqui.actividad") || "0");
  function chatNuevo() {
    Object.keys(localStorage).forEach(function (clave) {
      if (clave.indexOf("chasqui.") === 0) { localStorage.removeItem(clave); }
    });
    remitente = "web:" + nuevoId();
    localStorage.setItem("chasqui.remitente", remitente);
    claveUltimo = "chasqui.ultimo." + remitente;
    ultimo = 0;
    actividad = 0;
    lista.textContent = "";
  }
  function caducado() { return actividad > 0 && Date.now() - actividad > minutosSesion * 60000; }
  function marcarActividad() { actividad = Date.now(); localStorage.setItem("chasqui.actividad", String(actividad)); }
  var claveUltimo = "";
  var ultimo = 0;
  if (!remitente || caducado()) { chatNuevo(); }

  function agregar(clase, autor, texto) {
    var item = document.createElement("li");
    item.className = clase;
    var quien = document.createElement("span");
    quien.className = "autor";
    quien.textContent = autor;
    item.appendChild(quien);
    var cuerpo = document.createElement("span");
    cuerpo.textContent = texto || "";
    item.appendChild(cuerpo);
    lista.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function mostrarRespuesta(mensaje) {
    if (mensaje.custom && mensaje.custom.sesion === "cerrada") {
      chatNuevo();  // what was said before leaves the screen and this browser; the confirmation stays
    }
    var deAsesor = mensaje.autor === "agente";
    var item = agregar(deAsesor ? "bot agente" : "bot", deAsesor ? "Asesor" : "Chasqui", mensaje.text || "");
    var documento = mensaje.custom && mensaje.custom.document;
    if (documento && documento.url) {
      var enlace = document.createElement("a");
      enlace.href = enEsteSitio(documento.url);
      enlace.textContent = "Descargar " + (documento.filename || "documento");
      enlace.setAttribute("download", documento.filename || "");
      if (documento.kind === "png") {
        // The document's image is shown as a picture, its download link below it.
        var figura = document.createElement("figure");
        var dibujo = document.createElement("img");
        dibujo.src = enEsteSitio(documento.url);
        dibujo.alt = "Imagen de su documento, con el código QR para verificarlo" +
          (documento.verification_code ? ". Código de verificación: " + documento.verification_code : "");
        figura.appendChild(dibujo);
        var leyenda = document.createElement("figcaption");
        leyenda.appendChild(enlace);
        figura.appendChild(leyenda);
        item.appendChild(figura);
      } else {
        item.appendChild(document.createElement("br"));
        item.appendChild(enlace);
      }
    }
    if (mensaje.image) {
      var imagen = document.createElement("img");
      imagen.src = mensaje.image;
      imagen.alt = "Imagen enviada por Chasqui";
      item.appendChild(imagen);
    }
    if (mensaje.buttons && mensaje.buttons.length) {
      var grupo = document.createElement("div");
      grupo.className = "botones";
      grupo.setAttribute("role", "group");
      grupo.setAttribute("aria-label", "Opciones");
      mensaje.buttons.forEach(function (boton) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = boton.title;
        b.addEventListener("click", function () { enviar(boton.payload, boton.title); });
        grupo.appendChild(b);
      });
      item.appendChild(grupo);
    }
  }

  // A document's link points to this gateway's /documentos/: load it from the address this page came from.
  function enEsteSitio(direccion) {
    try {
      var url = new URL(direccion, window.location.href);
      return url.pathname.indexOf("/documentos/") === 0 ? url.pathname + url.search : direccion;
    } catch (error) {
      return direccion;
    }
  }

  var ocupado = false;
  var REINTENTABLES = [502, 503, 504];
  var INTENTOS = 6;
  // ``adjunto``: {filename, content_type, data (base64)}, a photo or PDF to verify; the text may then be empty.
  function enviar(texto, mostrado, adjunto) {
    if (ocupado || (!texto && !adjunto)) { return; }
    if (caducado()) { chatNuevo(); }
    marcarActividad();
    ocupado = true;
    agregar("yo", "Usted", mostrado || texto);
    estado.textContent = "Chasqui está escribiendo…";
    var idMensaje = nuevoId();
    // The same message (same id) is sent again while the service starts (503), when the balancer finds no
    // gateway for a moment (502, 504) or the connection drops: the gateway answers a repeated id once.
    var espera = function (ms) { return new Promise(function (ok) { setTimeout(ok, ms); }); };
    var intento = function (numero) {
      var otraVez = function (aviso, ms) {
        estado.textContent = aviso;
        return espera(ms).then(function () { return intento(numero + 1); });
      };
      return fetch("/webhooks/rest/webhook", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(adjunto
          ? { sender: remitente, message: texto || "", attachment: adjunto, metadata: { message_id: idMensaje } }
          : { sender: remitente, message: texto, metadata: { message_id: idMensaje } })
      }).then(function (r) {
        return r.json().catch(function () { return []; }).then(function (cuerpo) {
          if (REINTENTABLES.indexOf(r.status) >= 0 && numero < INTENTOS) {
            return r.status === 503
              ? otraVez("El servicio se está iniciando. Reintentando…", 5000)
              : otraVez("Se cortó la conexión. Reintentando…", Math.min(1000 * Math.pow(2, numero), 5000));
          }
          if (!r.ok) {
            agregar("aviso", "Aviso", r.status === 413
              ? (adjunto ? "El archivo es demasiado grande. Envíe uno de hasta 5 MB." : "Su mensaje es demasiado largo. Por favor, escríbalo más corto.")
              : REINTENTABLES.indexOf(r.status) >= 0
                ? "Chasqui no está disponible en este momento. Por favor, intente de nuevo en unos minutos."
                : "No pudimos leer su mensaje. Por favor, intente de nuevo.");
            return;
          }
          (Array.isArray(cuerpo) ? cuerpo : []).forEach(mostrarRespuesta);
        });
      }, function (error) {
        if (numero < INTENTOS) {
          return otraVez("Se cortó la conexión. Reintentando…", Math.min(1000 * Math.pow(2, numero), 5000));
        }
        throw error;
      });
    };
    intento(0).catch(function () {
      agregar("aviso", "Aviso", "No hay conexión con Chasqui. Revise su internet e intente de nuevo.");
    }).then(function () {
      ocupado = false;
      estado.textContent = "";
      entrada.focus();
      novedades();
    });
  }

  // Messages nobody asked for (a person's replies, notices of the queue) arrive by polling.
  claveUltimo = "chasqui.ultimo." + remitente;
  ultimo = Number(localStorage.getItem(claveUltimo) || "0");
  var consultando = false;
  function novedades() {
    if (ocupado || consultando) { return; }
    consultando = true;
    fetch("/webhooks/rest/mensajes?sender=" + encodeURIComponent(remitente) + "&despues=" + ultimo)
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (lista) {
        (Array.isArray(lista) ? lista : []).forEach(function (mensaje) {
          if (typeof mensaje.id === "number" && mensaje.id > ultimo) {
            ultimo = mensaje.id;
            mostrarRespuesta(mensaje);
          }
        });
        localStorage.setItem(claveUltimo, String(ultimo));
      })
      .catch(function () {})
      .then(function () { consultando = false; });
  }
  setInterval(novedades, 2500);
  novedades();

  // A photo or PDF to verify, chosen with the button or dropped on the page: read in this browser, sent once
  // as base64 (one file per message), never kept here.
  function enviarArchivo(elegido) {
    if (elegido.size > MAXIMO_ARCHIVO) {
      agregar("aviso", "Aviso", "El archivo es demasiado grande. Envíe uno de hasta 5 MB.");
      botonArchivo.focus();
      return;
    }
    if (elegido.type && TIPOS_ARCHIVO.indexOf(elegido.type) < 0) {
      agregar("aviso", "Aviso", "Solo puedo verificar documentos en PDF o fotos en JPG o PNG.");
      botonArchivo.focus();
      return;
    }
    var lector = new FileReader();
    lector.onload = function () {
      var url = String(lector.result || "");
      enviar("", "Archivo enviado: " + elegido.name, {
        filename: elegido.name,
        content_type: elegido.type || "application/octet-stream",
        data: url.slice(url.indexOf(",") + 1)
      });
    };
    lector.onerror = function () {
      agregar("aviso", "Aviso", "No pudimos leer el archivo. Por favor, intente de nuevo.");
    };
    lector.readAsDataURL(elegido);
  }
  botonArchivo.addEventListener("click", function () { archivo.click(); });
  archivo.addEventListener("change", function () {
    var elegido = archivo.files && archivo.files[0];
    archivo.value = "";
    if (elegido) { enviarArchivo(elegido); }
  });
  // Dragging a file over the page highlights where it goes; dropping it anywhere on the page sends it.
  var arrastres = 0;
  function llevaArchivos(evento) {
    var tipos = evento.dataTransfer && evento.dataTransfer.types;
    return !!tipos && Array.prototype.indexOf.call(tipos, "Files") >= 0;
  }
  document.addEventListener("dragenter", function (evento) {
    if (!llevaArchivos(evento)) { return; }
    evento.preventDefault();
    arrastres += 1;
    document.body.classList.add("arrastrando");
    estado.textContent = "Suelte el archivo para verificarlo.";
  });
  document.addEventListener("dragover", function (evento) {
    if (!llevaArchivos(evento)) { return; }
    evento.preventDefault();
    evento.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", function (evento) {
    if (!llevaArchivos(evento)) { return; }
    arrastres = Math.max(0, arrastres - 1);
    if (arrastres === 0) { document.body.classList.remove("arrastrando"); estado.textContent = ""; }
  });
  document.addEventListener("drop", function (evento) {
    if (!llevaArchivos(evento)) { return; }
    evento.preventDefault();  // the browser would otherwise open the file in place of the chat
    arrastres = 0;
    document.body.classList.remove("arrastrando");
    estado.textContent = "";
    var soltados = evento.dataTransfer.files;
    if (soltados.length > 1) {
      agregar("aviso", "Aviso", "Envíe un solo archivo a la vez.");
      return;
    }
    if (soltados.length === 1) { enviarArchivo(soltados[0]); }
  });

  formulario.addEventListener("submit", function (evento) {
    evento.preventDefault();
    var texto = entrada.value.trim();
    entrada.value = "";
    enviar(texto);
  });
  entrada.focus();
})();
