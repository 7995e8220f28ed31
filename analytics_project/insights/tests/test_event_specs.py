"""Analytics' catalog of stored event types agrees with the registry of event contracts."""

from analytics_project.event_handlers import HANDLERS

from common.events.contracts import CENTS, CONTRACTS, COUNT, ID, SECONDS, TIME
from insights.event_specs import CATALOG


def test_analytics_stores_registered_types_and_binds_every_bus_type_it_stores():
    assert set(CATALOG) <= set(CONTRACTS)
    assert set(HANDLERS) == {t for t in CATALOG if CONTRACTS[t].on_bus}


def test_each_field_analytics_checks_has_the_kind_the_contract_gives_it():
    for type, spec in CATALOG.items():
        fields = CONTRACTS[type].data
        assert spec.aggregate_key in fields, type
        for key in spec.ids:
            assert fields[key] is ID, (type, key)
        for key in spec.amounts:
            assert fields[key] in (CENTS, COUNT, SECONDS), (type, key)
        if spec.time_key:
            assert fields[spec.time_key] is TIME, type
