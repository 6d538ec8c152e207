"""The sandbox population: deterministic, valid identifiers, coherent families, and the documented demo identities."""

from __future__ import annotations

import re
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from stdnum.ec import ci

from integrations.registros.sandbox.catalogues import IdentidadDemo, cargar_catalogos, cargar_identidades
from integrations.registros.sandbox.model import Poblacion, digito_verificador_vin, edad, mes_matricula
from integrations.registros.sandbox.population import generar_poblacion
from tests.integrations.conftest import HOY

README = Path(__file__).resolve().parents[2] / "integrations" / "registros" / "README.md"
ELECCION = date(2025, 2, 9)


def poblacion(semilla: int = 2026, tamano: int = 2000, hoy: date = HOY) -> Poblacion:
    return generar_poblacion(
        cargar_catalogos(), semilla=semilla, tamano=tamano, hoy=hoy, identidades=cargar_identidades()
    )


@pytest.fixture(scope="module")
def p() -> Poblacion:
    return poblacion()


def test_same_seed_same_population_and_another_seed_another(p: Poblacion) -> None:
    again = poblacion()
    assert (again.personas, again.vehiculos, again.rucs, again.hijos) == (p.personas, p.vehiculos, p.rucs, p.hijos)
    assert poblacion(semilla=1).personas != p.personas


def test_it_is_built_fast() -> None:
    # CPU time of this process, so that other work on the machine does not count (about 0.2 s when idle).
    started = time.process_time()
    poblacion(semilla=99)
    assert time.process_time() - started < 1.0


def test_size_is_exact() -> None:
    assert [len(poblacion(tamano=n).personas) for n in (15, 2000, 5000)] == [15, 2000, 5000]


def test_every_cedula_is_valid_with_a_real_province(p: Poblacion) -> None:
    invalid = [c for c in p.personas if not (ci.is_valid(c) and 1 <= int(c[:2]) <= 24 and int(c[2]) <= 5)]
    assert invalid == []


def test_every_codigo_dactilar_has_the_generated_shape(p: Poblacion) -> None:
    shape = re.compile(r"[AEIV][1-4]{4}[AEIV][1-4]{4}")
    assert [x.cedula for x in p.personas.values() if not shape.fullmatch(x.codigo_dactilar)] == []


def test_plates_start_with_the_owners_province_letter(p: Poblacion) -> None:
    shape = re.compile(r"[A-Z]{3}-\d{4}")
    wrong = [
        v.placa
        for v in p.vehiculos.values()
        if not shape.fullmatch(v.placa)
        or v.placa[0] != p.catalogos.provincia(p.personas[v.cedula_propietario].provincia).letra_placa
    ]
    assert wrong == []
    letters = {prov.letra_placa for prov in p.catalogos.provincias}
    assert (len(letters), {v.placa[0] for v in p.vehiculos.values()} <= letters) == (24, True)


def test_registration_month_follows_the_last_digit_of_the_plate() -> None:
    assert [mes_matricula(f"PBA-100{d}") for d in range(10)] == [11, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_licences_carry_blood_type_and_restrictions_and_vehicles_a_chassis_number(p: Poblacion) -> None:
    licencias = [x.licencia for x in p.personas.values() if x.licencia is not None]
    tipos = {t for t, _ in p.catalogos.tipos_sangre}
    assert tipos == {"O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-"}
    assert [lic for lic in licencias if lic.tipo_sangre not in tipos] == []
    assert [lic for lic in licencias if lic.restricciones not in {r for r, _ in p.catalogos.restricciones}] == []
    # Realistic shares: O+ and «NINGUNA» are the most common by far, and the others do occur.
    assert 0.6 < sum(lic.tipo_sangre == "O+" for lic in licencias) / len(licencias) < 0.9
    assert 0.7 < sum(lic.restricciones == "NINGUNA" for lic in licencias) / len(licencias) < 0.95
    assert len({lic.tipo_sangre for lic in licencias}) >= 5
    vin = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
    numeros = [v.chasis for v in p.vehiculos.values()]
    assert [n for n in numeros if not vin.fullmatch(n) or n[8] != digito_verificador_vin(n)] == []
    assert len(set(numeros)) == len(numeros)
    # The demo identities' values are the ones written in identidades_demo.yml.
    for demo in p.identidades_demo:
        licencia = p.personas[demo.cedula].licencia
        if licencia is not None:
            assert (licencia.tipo_sangre, licencia.restricciones) == (
                demo.licencia_tipo_sangre,
                demo.licencia_restricciones,
            )
        assert [p.vehiculos[v.placa].chasis for v in demo.vehiculos] == [v.chasis for v in demo.vehiculos]


def test_families_are_coherent(p: Poblacion) -> None:
    for x in p.personas.values():
        for parent, sexo in ((x.cedula_padre, "HOMBRE"), (x.cedula_madre, "MUJER")):
            if parent is not None:
                assert (p.personas[parent].sexo, x.cedula in p.hijos[parent]) == (sexo, True)
                assert p.personas[parent].fecha_nacimiento < x.fecha_nacimiento
        if x.cedula_conyuge is not None:
            assert p.personas[x.cedula_conyuge].cedula_conyuge == x.cedula
        if x.fecha_defuncion is not None:
            assert x.fecha_nacimiento < x.fecha_defuncion < HOY
        assert x.fecha_nacimiento < x.fecha_cedulacion <= HOY


def test_the_population_holds_every_interesting_case(p: Poblacion) -> None:
    people = list(p.personas.values())
    citaciones = [c for x in people for c in x.citaciones]
    counts = {
        "fallecidos": sum(x.fecha_defuncion is not None for x in people),
        "menores con padre o madre": sum(
            edad(x.fecha_nacimiento, HOY) < 18 and (x.cedula_padre or x.cedula_madre) is not None for x in people
        ),
        "con padre fallecido": sum(
            x.cedula_padre is not None and p.personas[x.cedula_padre].fecha_defuncion is not None for x in people
        ),
        "licencias por vencer": sum(
            x.licencia is not None and 0 <= (x.licencia.fecha_vencimiento - HOY).days <= 90 for x in people
        ),
        "licencias caducadas": sum(x.licencia is not None and x.licencia.fecha_vencimiento < HOY for x in people),
        "puntos descontados": sum(x.licencia is not None and x.licencia.puntos < 30 for x in people),
        "citaciones pendientes": sum(not c.pagada for c in citaciones),
        "antecedentes": sum(x.antecedentes for x in people),
        "multas electorales": sum(v.estado == "multa" for x in people for v in x.votos),
        "exentos": sum(v.estado == "exento" for x in people for v in x.votos),
        "ruc activo": sum(r.estado == "ACTIVO" for r in p.rucs.values()),
        "ruc suspendido": sum(r.estado == "SUSPENDIDO" for r in p.rucs.values()),
        "matriculas vencidas": sum(v.estado_matricula == "vencida" for v in p.vehiculos.values()),
    }
    assert {k: v > 0 for k, v in counts.items()} == dict.fromkeys(counts, True)


def test_citation_fines_are_a_share_of_the_sbu_of_their_year(p: Poblacion) -> None:
    sbu = {2024: Decimal(460), 2025: Decimal(470), 2026: Decimal(482)}
    share = {1: 100, 2: 50, 3: 40, 4: 30, 5: 15, 6: 10, 7: 5}
    wrong = [
        c.numero
        for x in p.personas.values()
        for c in x.citaciones
        if c.valor != (sbu[c.fecha.year] * share[c.clase] / 100).quantize(Decimal("0.01"))
    ]
    assert wrong == []


def test_voting_follows_age_on_election_day(p: Poblacion) -> None:
    for x in p.personas.values():
        for voto in x.votos:
            age = edad(x.fecha_nacimiento, voto.fecha)
            assert age >= 16
            if voto.estado == "multa":
                assert (18 <= age < 65, x.grupo_facultativo, voto.multa) == (True, None, Decimal("47.00"))
            if voto.estado == "exento":
                assert voto.motivo_exencion is not None


def identidad(p: Poblacion, clave: str) -> IdentidadDemo:
    return next(i for i in p.identidades_demo if i.clave == clave)


def test_demo_identities_are_present_and_show_what_they_are_documented_for(p: Poblacion) -> None:
    def x(clave: str):  # type: ignore[no-untyped-def]
        return p.personas[identidad(p, clave).cedula]

    limpia = x("ciudadana_sin_novedades")
    assert (limpia.licencia and limpia.licencia.puntos, limpia.citaciones, limpia.antecedentes, limpia.ruc) == (
        Decimal(30),
        [],
        False,
        None,
    )
    assert [p.vehiculos[v].estado_matricula for v in limpia.placas] == ["al_dia"]
    multas = x("multas_de_transito")
    assert (sum(not c.pagada for c in multas.citaciones), multas.licencia and multas.licencia.puntos) == (3, 21)
    assert [v.estado for v in x("votante_multado").votos] == ["multa", "multa"]
    exento = x("votante_exento_por_edad")
    assert ([v.estado for v in exento.votos], edad(exento.fecha_nacimiento, ELECCION) >= 65) == (
        ["exento", "exento"],
        True,
    )
    assert x("con_antecedentes_penales").antecedentes is True
    assert (x("sin_licencia").licencia, x("sin_licencia").placas) == (None, [])
    por_vencer = x("licencia_por_vencer").licencia
    assert por_vencer is not None and (por_vencer.fecha_vencimiento - HOY).days == 45
    caducada = x("licencia_caducada").licencia
    assert caducada is not None and (caducada.fecha_vencimiento - HOY).days == -120
    assert p.rucs["1111111116001"].estado == "SUSPENDIDO"
    assert p.rucs["0711111112001"].estado == "ACTIVO"
    assert p.hijos["1733333338"] == ["1723232326"]
    assert edad(x("hijo_menor").fecha_nacimiento, HOY) < 18
    assert p.personas[x("padre_fallecido").cedula_padre or ""].fecha_defuncion == date(2021, 8, 19)
    assert x("fallecido").fecha_defuncion == date(2021, 8, 19)


def test_demo_identities_do_not_depend_on_the_seed(p: Poblacion) -> None:
    other = poblacion(semilla=12345)
    cedulas = [i.cedula for i in p.identidades_demo]
    assert [other.personas[c] for c in cedulas] == [p.personas[c] for c in cedulas]
    assert len(cedulas) >= 12


def test_the_readme_table_lists_the_demo_identities(p: Poblacion) -> None:
    rows = re.findall(r"^\| `(\d{10})` \| `([A-Z0-9]{10})` \| ([^|]+) \|", README.read_text(encoding="utf-8"), re.M)
    assert [(c, d, n.strip()) for c, d, n in rows] == [
        (i.cedula, i.codigo_dactilar, i.nombre) for i in p.identidades_demo
    ]
