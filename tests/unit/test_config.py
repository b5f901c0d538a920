"""The reference irpd.toml, environment overrides, and refusals that name the key."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import pytest

from irpd.config import Config, describe, load_config
from irpd.control.protocol import COMMANDS
from irpd.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "irpd.toml"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _sections() -> dict[str, type[Any]]:
    hints = get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config)}


def _keys() -> list[tuple[str, str, Any]]:
    """(section, key, type hint) for every field of every section."""
    out: list[tuple[str, str, Any]] = []
    for section, cls in _sections().items():
        hints = get_type_hints(cls)
        out.extend((section, f.name, hints[f.name]) for f in dataclasses.fields(cls))
    return out


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "irpd.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the reference file -------------------------------------------------------------------


def test_reference_loads_and_configures_the_defaults() -> None:
    assert load_config(REFERENCE, env={}) == Config()


def test_reference_holds_every_key_and_nothing_else() -> None:
    raw = tomllib.loads(REFERENCE.read_text(encoding="utf-8"))
    assert set(raw) == set(_sections())
    for section, cls in _sections().items():
        assert set(raw[section]) == {f.name for f in dataclasses.fields(cls)}, section


def test_reference_values_are_the_dataclass_defaults() -> None:
    raw = tomllib.loads(REFERENCE.read_text(encoding="utf-8"))
    defaults = Config()
    for section, key, hint in _keys():
        if hint is Path:
            assert raw[section][key] == "", f"{section}.{key}: an empty path means the default"
            continue
        expected = getattr(getattr(defaults, section), key)
        shown = raw[section][key]
        assert (tuple(shown) if get_origin(hint) is tuple else shown) == expected, (section, key)


def test_reference_explains_every_key_on_the_line_above() -> None:
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    for section, key, _hint in _keys():
        index = lines.index(f"[{section}]")
        while not lines[index].startswith(f"{key} = "):
            index += 1
        assert lines[index - 1].startswith("# "), f"{section}.{key} has no explanation"


def _status_fields() -> set[str]:
    """The names in docs/control.md's ``irpctl status`` answer (``database.state`` … are
    fields of the answer, not keys of the configuration)."""
    text = (ROOT / "docs" / "control.md").read_text(encoding="utf-8")
    block = text.split("### status", 1)[1].split("```", 2)[1]
    return set(re.findall(r"[a-z_]+", block))


def test_every_key_the_docs_name_exists() -> None:
    """`section.key`, `[section] key` and IRPD_SECTION_KEY in the pages name real keys."""
    keys = {(section, key) for section, key, _hint in _keys()}
    sections = "|".join(_sections())
    named = re.compile(rf"`(?:({sections})\.([a-z_]+)|\[({sections})\] ([a-z_]+))`")
    variable = re.compile(rf"\bIRPD_({sections.upper()})_([A-Z_]+)\b")
    other = _status_fields() | set(COMMANDS) | {p.name for p in (ROOT / "sql").rglob("*.sql")}
    wrong = []
    for page in [*PAGES, REFERENCE]:
        text = page.read_text(encoding="utf-8")
        for match in named.finditer(text):
            section, key = match.group(1) or match.group(3), match.group(2) or match.group(4)
            if (section, key) not in keys and not {key, f"{section}.{key}"} & other:
                wrong.append(f"{page.name}: {match.group(0)}")
        for match in variable.finditer(text):
            if (match.group(1).lower(), match.group(2).lower()) not in keys:
                wrong.append(f"{page.name}: {match.group(0)}")
    assert not wrong, f"no such configuration key: {wrong}"


# --- environment overrides ----------------------------------------------------------------


def test_the_five_named_variables_override_the_file(tmp_path: Path) -> None:
    env = {
        "IRPD_DATABASE_DSN": "postgresql://irpd:pw@db.example.com:5432/irpd",
        "IRPD_MOODYS_BASE_URL": "https://api-use1.rms.com",
        "IRPD_MOODYS_API_KEY": "k-123456",
        "IRPD_CONTROL_SOCKET": str(tmp_path / "c.sock"),
        "IRPD_STATE_DIR": str(tmp_path / "state"),
    }
    config = load_config(REFERENCE, env=env)
    assert config.database.dsn == env["IRPD_DATABASE_DSN"]
    assert config.moodys.base_url == "https://api-use1.rms.com"
    assert config.moodys.api_key == "k-123456"
    assert config.control.socket == str(tmp_path / "c.sock")
    assert config.socket_path == tmp_path / "c.sock"
    assert config.state.dir == tmp_path / "state"


def test_a_variable_wins_over_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[engine]\ndrain_timeout = 5.0\n[logging]\nlevel = "debug"\n')
    config = load_config(path, env={"IRPD_ENGINE_DRAIN_TIMEOUT": "7.5"})
    assert config.engine.drain_timeout == 7.5
    assert config.logging.level == "debug"


#: a valid, non-default text value per key where the generic rule below would not do
_SPECIAL = {
    ("database", "dsn"): ("postgresql://u@h/db", "postgresql://u@h/db"),
    ("moodys", "base_url"): ("http://127.0.0.1:9", "http://127.0.0.1:9"),
    ("logging", "level"): ("debug", "debug"),
    ("logging", "format"): ("json", "json"),
    ("control", "socket_mode"): ("0o600", 0o600),
    ("engine", "poll_jitter"): ("0.5", 0.5),
    ("engine", "poll_max_interval"): ("301", 301.0),
    ("metrics", "listen"): ("127.0.0.1:9464", "127.0.0.1:9464"),
    ("web", "public_url"): ("https://irpd.example.com", "https://irpd.example.com"),
    ("moodys", "status_batch_size"): ("500", 500),  # the default is the maximum
    ("metrics", "expected_run_times"): ("Export=60, Analysis=90.5", ("Export=60", "Analysis=90.5")),
}


def _override(section: str, key: str, hint: Any) -> tuple[str, Any]:
    if (section, key) in _SPECIAL:
        return _SPECIAL[(section, key)]
    default = getattr(getattr(Config(), section), key)
    if hint is bool:
        return ("false" if default else "true", not default)
    if hint is int:
        return (str(default + 1), default + 1)
    if hint is float:
        return (str(default * 2), default * 2)
    if hint is Path:
        return ("/srv/irpd-state", Path("/srv/irpd-state"))
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        return ("1, 2", (1, 2)) if item is int else ("ops, irpd", ("ops", "irpd"))
    return ("override-value", "override-value")


def _is_tables(hint: Any) -> bool:
    """A list of tables ([[notifications.channels]]): set in the file only."""
    return get_origin(hint) is tuple and dataclasses.is_dataclass(get_args(hint)[0])


@pytest.mark.parametrize(
    ("section", "key", "hint"),
    [pytest.param(s, k, h, id=f"{s}.{k}") for s, k, h in _keys() if not _is_tables(h)],
)
def test_every_key_can_be_overridden_by_its_variable(section: str, key: str, hint: Any) -> None:
    text, expected = _override(section, key, hint)
    variable = f"IRPD_{section}_{key}".upper()
    config = load_config(REFERENCE, env={variable: text})
    assert getattr(getattr(config, section), key) == expected


def test_an_empty_path_variable_means_the_default() -> None:
    assert load_config(None, env={"IRPD_STATE_DIR": ""}).state.dir == Config().state.dir


def test_unrelated_irpd_variables_are_ignored() -> None:
    env = {"IRPD_CONFIG": "/etc/irpd/irpd.toml", "IRPD_TEST_DSN": "postgresql://x/y"}
    assert load_config(None, env=env) == Config()


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[databse]\ndsn = ''\n", "[databse]"),
        ("[moodys]\napi_kee = 'x'\n", "'api_kee'"),
        ("[engine]\ndrain_timeout = 'soon'\n", "[engine] drain_timeout"),
        ("[engine]\ndrain_timeout = nan\n", "[engine] drain_timeout"),
        ("[engine]\ndrain_timeout = inf\n", "[engine] drain_timeout"),
        ("[engine]\ndrain_timeout = -1.0\n", "engine.drain_timeout"),
        ("[engine]\npoll_growth = 0.5\n", "engine.poll_growth"),
        ("[engine]\npoll_jitter = 1.0\n", "engine.poll_jitter"),
        ("[engine]\npoll_min_interval = 10.0\npoll_max_interval = 5.0\n", "poll_max_interval"),
        ("[database]\npool_max_size = 'ten'\n", "[database] pool_max_size"),
        ("[database]\npool_min_size = 20\n", "database.pool_min_size"),
        ("[database]\ndsn = 'mysql://x'\n", "database.dsn"),
        ("[database]\nmigrate_on_start = 'sometimes'\n", "[database] migrate_on_start"),
        ("[moodys]\nbase_url = 'ftp://x'\n", "moodys.base_url"),
        ("[moodys]\nstatus_batch_size = 1001\n", "moodys.status_batch_size"),
        ("[moodys]\nverify_tls = 1\n", "[moodys] verify_tls"),
        ("[moodys]\nmax_requests_per_second = 1.0\n", "moodys.max_requests_per_second"),
        ("[control]\nsocket_mode = 0o1777\n", "control.socket_mode"),
        ("[control]\nmax_clients = 0\n", "control.max_clients"),
        ("[control]\nallowed_uids = 5\n", "[control] allowed_uids"),
        ("[control]\nallowed_uids = ['root']\n", "[control] allowed_uids"),
        ("[control]\nallowed_groups = [1]\n", "[control] allowed_groups"),
        ("[logging]\nlevel = 'loud'\n", "logging.level"),
        ("[logging]\nformat = 'xml'\n", "logging.format"),
        ("[state]\ndir = 3\n", "[state] dir"),
        ("logging = 3\n", "[logging]"),
        ("[metrics]\nexpected_run_times = ['Export']\n", "metrics.expected_run_times"),
        ("[metrics]\nexpected_run_times = ['Export=0']\n", "metrics.expected_run_times"),
        ("[metrics]\nexpected_run_times = ['A=1', 'A=2']\n", "metrics.expected_run_times"),
        ("[metrics]\nexpected_run_time = 0\n", "metrics.expected_run_time"),
    ],
)
def test_a_bad_file_stops_start_up_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text), env={})
    assert named in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("IRPD_ENGINE_DRAIN_TIMEOUT", "soon"),
        ("IRPD_ENGINE_DRAIN_TIMEOUT", "nan"),
        ("IRPD_DATABASE_POOL_MAX_SIZE", "1.5"),
        ("IRPD_MOODYS_VERIFY_TLS", "maybe"),
        ("IRPD_CONTROL_ALLOWED_UIDS", "1,root"),
        ("IRPD_CONTROL_SOCKET_MODE", "rw-rw----"),
        ("IRPD_MOODYS_APIKEY", "typo"),
        ("IRPD_ENGINE_DRAIN", "5"),
    ],
)
def test_a_bad_variable_stops_start_up_naming_it(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(REFERENCE, env={variable: value})
    assert variable in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("IRPD_ENGINE_DRAIN_TIMEOUT", "0", "engine.drain_timeout"),
        ("IRPD_MOODYS_BASE_URL", "api.rms.com", "moodys.base_url"),
        ("IRPD_DATABASE_DSN", "host=db user=irpd", "database.dsn"),
        ("IRPD_LOGGING_LEVEL", "verbose", "logging.level"),
    ],
)
def test_an_out_of_range_variable_names_the_key(variable: str, value: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(REFERENCE, env={variable: value})


def test_missing_and_malformed_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml", env={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "[engine\n"), env={})


def test_messages_never_carry_the_secret_values(tmp_path: Path) -> None:
    config = load_config(
        REFERENCE,
        env={"IRPD_MOODYS_API_KEY": "s3cret-key", "IRPD_DATABASE_DSN": "postgresql://u:pw@h/d"},
    )
    shown = describe(config)
    assert shown["moodys"]["api_key"] == "***"
    assert shown["database"]["dsn"] == "***"
    assert "s3cret-key" not in repr(config)
    assert "pw@" not in repr(config)
