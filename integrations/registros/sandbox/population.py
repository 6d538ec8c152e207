"""The sandbox's fictitious population: three-generation families generated from a seed, plus the demo identities.

Same seed and same day give the same population. Birth, marriage and death dates are absolute; what must stay
"current" for demos (document issue and expiry dates, citations, registrations) is placed relative to ``hoy``.
Every person is fictitious; any resemblance of a generated cédula to a real one is chance.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from stdnum import luhn

from integrations.registros.sandbox.catalogues import Catalogos, IdentidadDemo, Provincia
from integrations.registros.sandbox.model import (
    CENTS,
    PUNTOS_INICIALES,
    CitacionRegistrada,
    LicenciaRegistrada,
    Persona,
    Poblacion,
    RucRegistrado,
    VehiculoRegistrado,
    VotoRegistrado,
    chasis,
    datos_licencia,
    edad,
    estado_matricula,
    motivo_facultativo,
    sumar_anios,
    valores_matricula,
)

# Second plate letters that mark commercial or official service (ecuador.md §3): private cars avoid them.
_LETRAS_SERVICIO = set("AZQEXSMW")
_LETRAS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def generar_poblacion(
    catalogos: Catalogos, *, semilla: int, tamano: int, hoy: date, identidades: Sequence[IdentidadDemo] = ()
) -> Poblacion:
    """Build a population of exactly ``tamano`` people: the demo identities first, then generated families.

    Args:
        catalogos: word lists and catalogues.
        semilla: seed of every random draw.
        tamano: number of people, the demo identities included.
        hoy: the sandbox's day, which relative dates are placed around.
        identidades: demo identities to inject.
    """
    if tamano < len(identidades):
        raise ValueError("the population must be at least as large as the set of demo identities")
    generator = _Generador(catalogos, semilla=semilla, hoy=hoy, tamano=tamano, identidades=identidades)
    # Building allocates ~100 000 small objects and no reference cycles: the cyclic collector would only rescan
    # everything alive in the process, several times over, so it is paused meanwhile.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return generator.run()
    finally:
        if was_enabled:
            gc.enable()


class _Generador:
    def __init__(
        self, catalogos: Catalogos, *, semilla: int, hoy: date, tamano: int, identidades: Sequence[IdentidadDemo]
    ) -> None:
        self.cat = catalogos
        self.semilla = semilla
        self.hoy = hoy
        self.tamano = tamano
        self.identidades = tuple(identidades)
        self.rng = random.Random(semilla)
        self.personas: dict[str, Persona] = {}
        self.vehiculos: dict[str, VehiculoRegistrado] = {}
        self.rucs: dict[str, RucRegistrado] = {}
        self.cedulas = {i.cedula for i in identidades}
        self.placas = {v.placa for i in identidades for v in i.vehiculos}
        self.secuencia_citaciones = 0
        self._pesos_provincia = [p.peso for p in catalogos.provincias]

    def run(self) -> Poblacion:
        for identidad in self.identidades:
            self._demo(identidad)
        for persona in self.personas.values():
            if persona.cedula_padre is not None:
                persona.nombre_padre = self.personas[persona.cedula_padre].nombre
            if persona.cedula_madre is not None:
                persona.nombre_madre = self.personas[persona.cedula_madre].nombre
        while len(self.personas) < self.tamano:
            self._familia()
        for persona in self.personas.values():
            if persona.demo is None:
                self._registros(persona)
        hijos: dict[str, list[str]] = {}
        for persona in self.personas.values():
            for parent in (persona.cedula_padre, persona.cedula_madre):
                if parent is not None:
                    hijos.setdefault(parent, []).append(persona.cedula)
        return Poblacion(
            semilla=self.semilla,
            hoy=self.hoy,
            catalogos=self.cat,
            personas=self.personas,
            vehiculos=self.vehiculos,
            rucs=self.rucs,
            hijos=hijos,
            identidades_demo=self.identidades,
        )

    # -- identities -------------------------------------------------------------------------------------------

    def _cedula(self, provincia: str) -> str:
        while True:
            base = f"{provincia}{self.rng.randint(0, 5)}{self.rng.randrange(1_000_000):06d}"
            numero = base + luhn.calc_check_digit(base)
            if numero not in self.cedulas:
                self.cedulas.add(numero)
                return numero

    @staticmethod
    def _dactilar(rng: random.Random) -> str:
        def half() -> str:
            return rng.choice("AEIV") + "".join(rng.choice("1234") for _ in range(4))

        return half() + half()

    def _nombres(self, sexo: str, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        pool = self.cat.nombres_hombre if sexo == "HOMBRE" else self.cat.nombres_mujer
        first, second = rng.sample(pool, 2)
        return f"{first} {second}"

    def _apellido(self, rng: random.Random | None = None) -> str:
        return (rng or self.rng).choice(self.cat.apellidos)

    def _nombre_externo(self, sexo: str, apellido: str, rng: random.Random | None = None) -> str:
        """The registry's name of a parent who is not in the population."""
        return f"{apellido} {self._apellido(rng)} {self._nombres(sexo, rng)}"

    def _documento(self, nacimiento: date, defuncion: date | None, rng: random.Random) -> tuple[date, date]:
        """Cédula issue and expiry dates: issued in the last 11 years (before any death), valid 10 years."""
        limite = defuncion or self.hoy
        emision = max(limite - timedelta(days=rng.randint(0, 11 * 365)), nacimiento + timedelta(days=1))
        emision = min(emision, limite)
        return emision, sumar_anios(emision, 10)

    def _persona(
        self,
        *,
        sexo: str,
        nacimiento: date,
        provincia: Provincia,
        apellidos: str,
        defuncion: date | None = None,
    ) -> Persona:
        emision, expiracion = self._documento(nacimiento, defuncion, self.rng)
        persona = Persona(
            cedula=self._cedula(provincia.codigo),
            codigo_dactilar=self._dactilar(self.rng),
            nombres=self._nombres(sexo),
            apellidos=apellidos,
            sexo=sexo,
            fecha_nacimiento=nacimiento,
            provincia=provincia.codigo,
            canton=self.rng.choice(provincia.cantones),
            fecha_cedulacion=emision,
            fecha_expiracion=expiracion,
            fecha_defuncion=defuncion,
        )
        persona.profesion = self._profesion(persona)
        self.personas[persona.cedula] = persona
        return persona

    def _profesion(self, persona: Persona) -> str:
        anios = edad(persona.fecha_nacimiento, persona.fecha_defuncion or self.hoy)
        if anios < 5:
            return "NINGUNA"
        if anios < 23:
            return "ESTUDIANTE"
        if anios >= 65 and self.rng.random() < 0.5:
            return "JUBILADO"
        return self.rng.choice(self.cat.profesiones)

    # -- families ---------------------------------------------------------------------------------------------

    def _lleno(self) -> bool:
        return len(self.personas) >= self.tamano

    def _fecha_entre(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self.rng.randint(0, (end - start).days))

    def _defuncion(self, nacimiento: date, probabilidad: float) -> date | None:
        if self.rng.random() >= probabilidad:
            return None
        earliest = max(sumar_anios(nacimiento, 40), date(1995, 1, 1))
        latest = self.hoy - timedelta(days=30)
        return None if earliest >= latest else self._fecha_entre(earliest, latest)

    def _probabilidad_defuncion(self, nacimiento: date) -> float:
        anios = edad(nacimiento, self.hoy)
        return 0.6 if anios >= 85 else 0.35 if anios >= 75 else 0.15 if anios >= 65 else 0.02

    def _familia(self) -> None:
        provincia = self.rng.choices(self.cat.provincias, weights=self._pesos_provincia)[0]
        nacimiento_abuelo = self._fecha_entre(date(1936, 1, 1), date(1962, 12, 31))
        nacimiento_abuela = nacimiento_abuelo + timedelta(days=self.rng.randint(-5 * 365, 5 * 365))
        abuelo = self._persona(
            sexo="HOMBRE",
            nacimiento=nacimiento_abuelo,
            provincia=provincia,
            apellidos=f"{self._apellido()} {self._apellido()}",
            defuncion=self._defuncion(nacimiento_abuelo, self._probabilidad_defuncion(nacimiento_abuelo)),
        )
        abuelo.nombre_padre = self._nombre_externo("HOMBRE", abuelo.apellidos.split()[0])
        abuelo.nombre_madre = self._nombre_externo("MUJER", abuelo.apellidos.split()[1])
        if self._lleno():
            return
        abuela = self._persona(
            sexo="MUJER",
            nacimiento=nacimiento_abuela,
            provincia=provincia,
            apellidos=f"{self._apellido()} {self._apellido()}",
            defuncion=self._defuncion(nacimiento_abuela, self._probabilidad_defuncion(nacimiento_abuela)),
        )
        abuela.nombre_padre = self._nombre_externo("HOMBRE", abuela.apellidos.split()[0])
        abuela.nombre_madre = self._nombre_externo("MUJER", abuela.apellidos.split()[1])
        self._casar(abuelo, abuela)
        for _ in range(self.rng.choices((1, 2, 3, 4), weights=(20, 35, 30, 15))[0]):
            if self._lleno():
                return
            hijo = self._hijo(abuelo, abuela, provincia)
            if hijo is None:
                continue
            anios = edad(hijo.fecha_nacimiento, self.hoy)
            if hijo.fecha_defuncion is None and anios >= 24 and self.rng.random() < 0.62:
                self._formar_hogar(hijo, provincia)

    def _hijo(self, padre: Persona, madre: Persona, provincia: Provincia) -> Persona | None:
        nacimiento = sumar_anios(madre.fecha_nacimiento, self.rng.randint(19, 40)) + timedelta(
            days=self.rng.randint(0, 364)
        )
        if padre.fecha_defuncion is not None and nacimiento > padre.fecha_defuncion:
            return None
        if madre.fecha_defuncion is not None and nacimiento > madre.fecha_defuncion:
            return None
        if nacimiento >= self.hoy:
            return None
        if self.rng.random() < 0.15:
            provincia = self.cat.provincia(self.rng.choice(("09", "17")))
        hijo = self._persona(
            sexo=self.rng.choice(("HOMBRE", "MUJER")),
            nacimiento=nacimiento,
            provincia=provincia,
            apellidos=f"{padre.apellidos.split()[0]} {madre.apellidos.split()[0]}",
            defuncion=self._defuncion(nacimiento, 0.01),
        )
        hijo.cedula_padre, hijo.nombre_padre = padre.cedula, padre.nombre
        hijo.cedula_madre, hijo.nombre_madre = madre.cedula, madre.nombre
        return hijo

    def _formar_hogar(self, persona: Persona, provincia: Provincia) -> None:
        if self._lleno():
            return
        sexo = "MUJER" if persona.sexo == "HOMBRE" else "HOMBRE"
        nacimiento = persona.fecha_nacimiento + timedelta(days=self.rng.randint(-5 * 365, 5 * 365))
        nacimiento = min(nacimiento, sumar_anios(self.hoy, -20))
        pareja = self._persona(
            sexo=sexo,
            nacimiento=nacimiento,
            provincia=self.cat.provincia(persona.provincia),
            apellidos=f"{self._apellido()} {self._apellido()}",
            defuncion=self._defuncion(nacimiento, 0.02),
        )
        pareja.nombre_padre = self._nombre_externo("HOMBRE", pareja.apellidos.split()[0])
        pareja.nombre_madre = self._nombre_externo("MUJER", pareja.apellidos.split()[1])
        padre, madre = (persona, pareja) if persona.sexo == "HOMBRE" else (pareja, persona)
        self._casar(padre, madre)
        for _ in range(self.rng.choices((0, 1, 2, 3), weights=(15, 30, 35, 20))[0]):
            if self._lleno():
                return
            self._hijo(padre, madre, provincia)
        if self.rng.random() < 0.08 and padre.fecha_defuncion is None and madre.fecha_defuncion is None:
            for p in (padre, madre):
                p.estado_civil, p.cedula_conyuge = "DIVORCIADO", None

    def _casar(self, esposo: Persona, esposa: Persona) -> None:
        menor = max(esposo.fecha_nacimiento, esposa.fecha_nacimiento)
        boda = sumar_anios(menor, self.rng.randint(19, 30))
        ends = [d for d in (esposo.fecha_defuncion, esposa.fecha_defuncion) if d is not None]
        if ends and boda >= min(ends):
            boda = min(ends) - timedelta(days=365)
        boda = min(boda, self.hoy - timedelta(days=30))
        for persona, pareja in ((esposo, esposa), (esposa, esposo)):
            persona.cedula_conyuge = pareja.cedula
            persona.fecha_matrimonio = boda
            persona.estado_civil = "VIUDO" if pareja.fecha_defuncion is not None else "CASADO"

    # -- records held by the other institutions ---------------------------------------------------------------

    def _registros(self, persona: Persona) -> None:
        hoy = self.hoy
        if persona.fecha_defuncion is None:
            anios = edad(persona.fecha_nacimiento, hoy)
            if 18 <= anios < 65 and self.rng.random() < 0.02:
                persona.grupo_facultativo = self.rng.choice(("discapacidad", "fuerza_publica"))
            if anios >= 20 and self.rng.random() < 0.5:
                self._licencia(persona)
            if anios >= 20 and self.rng.random() < 0.35:
                self._vehiculo(persona)
                if self.rng.random() < 0.2:
                    self._vehiculo(persona)
            if persona.licencia is not None or persona.placas:
                for _ in range(self.rng.choices((0, 1, 2, 3, 4), weights=(55, 22, 13, 7, 3))[0]):
                    self._citacion(persona)
                self._descontar_puntos(persona)
            persona.antecedentes = anios >= 18 and self.rng.random() < 0.03
            if anios >= 22 and self.rng.random() < 0.10:
                self._ruc(persona)
        self._votos(persona)

    def _licencia(self, persona: Persona) -> None:
        tipos, pesos = zip(*self.cat.licencias, strict=True)
        emision = self.hoy - timedelta(days=self.rng.randint(0, 6 * 365 + 180))
        emision = max(emision, sumar_anios(persona.fecha_nacimiento, 18))
        tipo_sangre, restricciones = datos_licencia(persona.cedula, self.cat)
        persona.licencia = LicenciaRegistrada(
            tipo=self.rng.choices(tipos, weights=pesos)[0],
            fecha_emision=emision,
            fecha_vencimiento=sumar_anios(emision, 5),
            tipo_sangre=tipo_sangre,
            restricciones=restricciones,
        )

    def _placa(self, provincia: Provincia) -> str:
        while True:
            segunda = self.rng.choice([c for c in _LETRAS if c not in _LETRAS_SERVICIO])
            placa = f"{provincia.letra_placa}{segunda}{self.rng.choice(_LETRAS)}-{self.rng.randint(1000, 9999)}"
            if placa not in self.placas:
                self.placas.add(placa)
                return placa

    def _vehiculo(self, persona: Persona) -> None:
        modelo = self.rng.choice(self.cat.modelos)
        placa = self._placa(self.cat.provincia(persona.provincia))
        hoy = self.hoy
        ultimo = self.rng.choices((hoy.year, hoy.year - 1, hoy.year - 2), weights=(45, 45, 10))[0]
        anio = self.rng.randint(2000, hoy.year)
        vehiculo = VehiculoRegistrado(
            placa=placa,
            marca=modelo.marca,
            modelo=modelo.modelo,
            anio=anio,
            color=self.rng.choice(self.cat.colores),
            clase=modelo.clase,
            chasis=chasis(placa, modelo.marca, anio, self.cat),
            cedula_propietario=persona.cedula,
            estado_matricula=estado_matricula(placa, ultimo, hoy),
            anio_ultima_matricula=ultimo,
        )
        vehiculo.valores = valores_matricula(vehiculo, self.cat, hoy, avaluo=Decimal(self.rng.randint(40, 450) * 100))
        self.vehiculos[placa] = vehiculo
        persona.placas.append(placa)

    def _nueva_citacion(
        self, persona: Persona, *, clase: int, fecha: date, pagada: bool, placa: str | None, descripcion: int
    ) -> None:
        contravencion = self.cat.contravencion(clase)
        self.secuencia_citaciones += 1
        valor = (self.cat.sbu_de(fecha.year) * contravencion.porcentaje_sbu / 100).quantize(CENTS)
        persona.citaciones.append(
            CitacionRegistrada(
                numero=f"C{fecha.year}{self.secuencia_citaciones:07d}",
                cedula=persona.cedula,
                fecha=fecha,
                articulo=contravencion.articulo,
                clase=clase,
                descripcion=contravencion.descripciones[descripcion % len(contravencion.descripciones)],
                valor=valor,
                puntos=contravencion.puntos,
                pagada=pagada,
                placa=placa,
            )
        )

    def _citacion(self, persona: Persona) -> None:
        clases = [c.clase for c in self.cat.contravenciones]
        clase = self.rng.choices(clases, weights=[c.peso for c in self.cat.contravenciones])[0]
        dias = self.rng.randint(1, 730)
        self._nueva_citacion(
            persona,
            clase=clase,
            fecha=self.hoy - timedelta(days=dias),
            pagada=self.rng.random() < (0.75 if dias > 180 else 0.4),
            placa=self.rng.choice(persona.placas) if persona.placas else None,
            descripcion=self.rng.randrange(8),
        )

    def _descontar_puntos(self, persona: Persona) -> None:
        persona.citaciones.sort(key=lambda c: c.fecha, reverse=True)
        licencia = persona.licencia
        if licencia is None:
            return
        perdidos = sum((c.puntos for c in persona.citaciones if c.fecha >= licencia.fecha_emision), Decimal(0))
        licencia.puntos = max(Decimal(0), PUNTOS_INICIALES - perdidos)

    def _ruc(self, persona: Persona) -> None:
        inicio = self._fecha_entre(
            max(sumar_anios(persona.fecha_nacimiento, 18), date(2000, 1, 1)), self.hoy - timedelta(days=30)
        )
        codigos = self.rng.sample(sorted(self.cat.actividades), self.rng.choice((1, 1, 2)))
        self._registrar_ruc(persona, "ACTIVO" if self.rng.random() < 0.8 else "SUSPENDIDO", inicio, codigos)

    def _registrar_ruc(self, persona: Persona, estado: str, inicio: date, codigos: Sequence[str]) -> None:
        numero = persona.cedula + "001"
        self.rucs[numero] = RucRegistrado(
            numero=numero,
            cedula=persona.cedula,
            estado=estado,
            fecha_inicio=inicio,
            actividades=[(c, self.cat.actividades[c]) for c in codigos],
        )
        persona.ruc = numero

    def _votos(self, persona: Persona) -> None:
        eleccion = self.cat.eleccion
        voto_anterior = True
        for vuelta in eleccion.vueltas:
            if not persona.viva_el(vuelta.fecha) or edad(persona.fecha_nacimiento, vuelta.fecha) < 16:
                continue
            motivo = motivo_facultativo(persona, vuelta.fecha)
            probabilidad = (0.95 if voto_anterior else 0.4) if motivo is None else 0.5
            voto_anterior = self.rng.random() < probabilidad
            if voto_anterior:
                persona.votos.append(VotoRegistrado(vuelta=vuelta.vuelta, fecha=vuelta.fecha, estado="sufrago"))
            elif motivo is not None:
                persona.votos.append(
                    VotoRegistrado(vuelta=vuelta.vuelta, fecha=vuelta.fecha, estado="exento", motivo_exencion=motivo)
                )
            else:
                persona.votos.append(
                    VotoRegistrado(
                        vuelta=vuelta.vuelta,
                        fecha=vuelta.fecha,
                        estado="multa",
                        multa=eleccion.multa,
                        multa_pagada=self.rng.random() < 0.35,
                    )
                )

    # -- demo identities --------------------------------------------------------------------------------------

    def _demo(self, identidad: IdentidadDemo) -> None:
        # Each demo identity draws its incidental details from its own generator, so they never depend on the seed.
        rng = random.Random(f"identidad-demo:{identidad.cedula}")
        emision, expiracion = self._documento(identidad.fecha_nacimiento, identidad.fecha_defuncion, rng)
        apellido_padre, apellido_madre = identidad.apellidos.split()[:2]
        persona = Persona(
            cedula=identidad.cedula,
            codigo_dactilar=identidad.codigo_dactilar,
            nombres=identidad.nombres,
            apellidos=identidad.apellidos,
            sexo=identidad.sexo,
            fecha_nacimiento=identidad.fecha_nacimiento,
            provincia=identidad.provincia,
            canton=identidad.canton,
            fecha_cedulacion=emision,
            fecha_expiracion=expiracion,
            profesion=identidad.profesion,
            estado_civil=identidad.estado_civil,
            cedula_padre=identidad.padre,
            cedula_madre=identidad.madre,
            nombre_padre=None if identidad.padre else self._nombre_externo("HOMBRE", apellido_padre, rng),
            nombre_madre=None if identidad.madre else self._nombre_externo("MUJER", apellido_madre, rng),
            fecha_defuncion=identidad.fecha_defuncion,
            antecedentes=identidad.antecedentes,
            lugar_votacion=identidad.lugar_votacion,
            demo=identidad.clave,
        )
        self.personas[persona.cedula] = persona
        if identidad.licencia_tipo is not None:
            vencimiento = self.hoy + timedelta(days=identidad.licencia_vence_en_dias)
            tipo_sangre, restricciones = datos_licencia(identidad.cedula, self.cat)
            persona.licencia = LicenciaRegistrada(
                tipo=identidad.licencia_tipo,
                fecha_emision=sumar_anios(vencimiento, -5),
                fecha_vencimiento=vencimiento,
                tipo_sangre=identidad.licencia_tipo_sangre or tipo_sangre,
                restricciones=identidad.licencia_restricciones or restricciones,
            )
        for v in identidad.vehiculos:
            # The demo's key names its last registration (this year, last year, two years ago); the status then
            # follows the sandbox's day like every other vehicle's: last year's car is overdue once its month ends.
            ultimo = {"al_dia": self.hoy.year, "pendiente": self.hoy.year - 1}.get(v.matricula, self.hoy.year - 2)
            vehiculo = VehiculoRegistrado(
                placa=v.placa,
                marca=v.marca,
                modelo=v.modelo,
                anio=v.anio,
                color=v.color,
                clase=v.clase,
                chasis=v.chasis or chasis(v.placa, v.marca, v.anio, self.cat),
                cedula_propietario=persona.cedula,
                estado_matricula=estado_matricula(v.placa, ultimo, self.hoy),
                anio_ultima_matricula=ultimo,
            )
            vehiculo.valores = valores_matricula(
                vehiculo, self.cat, self.hoy, avaluo=Decimal(rng.randint(40, 450) * 100)
            )
            self.vehiculos[v.placa] = vehiculo
            persona.placas.append(v.placa)
        for indice, c in enumerate(identidad.citaciones):
            self._nueva_citacion(
                persona,
                clase=c.clase,
                fecha=self.hoy - timedelta(days=c.dias_atras),
                pagada=c.pagada,
                placa=c.placa,
                descripcion=indice,
            )
        self._descontar_puntos(persona)
        for vuelta, estado in zip(self.cat.eleccion.vueltas, identidad.votacion, strict=False):
            persona.votos.append(
                VotoRegistrado(
                    vuelta=vuelta.vuelta,
                    fecha=vuelta.fecha,
                    estado=estado,
                    motivo_exencion=motivo_facultativo(persona, vuelta.fecha) if estado == "exento" else None,
                    multa=self.cat.eleccion.multa if estado == "multa" else None,
                )
            )
        if identidad.ruc is not None:
            self._registrar_ruc(persona, identidad.ruc.estado, identidad.ruc.inicio, identidad.ruc.actividades)
