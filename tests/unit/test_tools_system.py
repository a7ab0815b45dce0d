"""system.info: each part against psutil's own numbers, and the filters applied to fake hardware."""

from __future__ import annotations

import json
import platform
import socket
from collections import namedtuple
from datetime import datetime
from typing import Any

import psutil
import pytest
from llmos.tools.registry import Registry

Partition = namedtuple("Partition", "device mountpoint fstype opts")
Usage = namedtuple("Usage", "total used free percent")
Battery = namedtuple("Battery", "percent secsleft power_plugged")
Temperature = namedtuple("Temperature", "label current high critical")


def info(registry: Registry, part: str) -> Any:
    result = registry.get("system.info").call({"part": part})
    assert result.ok, result.error
    return result.data if part == "all" else result.data[part]


def test_cpu_counts_equal_psutil(builtin_tools: Registry) -> None:
    cpu = info(builtin_tools, "cpu")
    assert cpu["logical"] == psutil.cpu_count()
    assert cpu["physical"] == psutil.cpu_count(logical=False)
    assert 0.0 <= cpu["percent"] <= 100.0
    assert len(cpu["load_average"]) == 3


def test_memory_totals_equal_psutil(builtin_tools: Registry) -> None:
    memory = info(builtin_tools, "memory")
    assert memory["total"] == psutil.virtual_memory().total
    assert memory["swap"]["total"] == psutil.swap_memory().total
    assert " used of " in memory["human"] and memory["human"].endswith(" available")


def test_disk_lists_the_root_filesystem_with_its_usage(builtin_tools: Registry) -> None:
    disks = info(builtin_tools, "disk")
    root = next(disk for disk in disks if disk["mount"] == "/")
    assert root["total"] == psutil.disk_usage("/").total
    assert len({disk["device"] for disk in disks}) == len(disks)


def test_disk_skips_snaps_loops_overlays_and_duplicate_devices(
    builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only real file systems, each once; the root stays even when it is an overlay (containers)."""
    fake = [
        Partition("overlay", "/", "overlay", "rw"),
        Partition("/dev/sda1", "/home", "ext4", "rw"),
        Partition("/dev/sda1", "/home/me/bind", "ext4", "rw"),
        Partition("/dev/loop3", "/snap/core/123", "squashfs", "ro"),
        Partition("/dev/sdb1", "/media/usb", "vfat", "rw"),
        Partition("/dev/sdc1", "/mnt/image", "squashfs", "ro"),
    ]
    monkeypatch.setattr(psutil, "disk_partitions", lambda all=False: fake)
    monkeypatch.setattr(psutil, "disk_usage", lambda mount: Usage(1000 * 2**30, 250 * 2**30, 750 * 2**30, 25.0))
    monkeypatch.setattr("os.path.isdir", lambda path: True)
    disks = info(builtin_tools, "disk")
    assert [disk["mount"] for disk in disks] == ["/", "/home", "/media/usb"]
    assert disks[1] == {
        "mount": "/home",
        "device": "/dev/sda1",
        "fs": "ext4",
        "total": 1000 * 2**30,
        "used": 250 * 2**30,
        "free": 750 * 2**30,
        "percent": 25.0,
        "human": "750.0 GB free of 1000.0 GB",
    }


def test_network_lists_interfaces_without_loopback(builtin_tools: Registry) -> None:
    network = info(builtin_tools, "network")
    assert "lo" not in network
    assert set(network) <= set(psutil.net_if_addrs())
    for described in network.values():
        assert all("%" not in address for address in described.get("ipv6", []))


def test_os_facts_equal_platform(builtin_tools: Registry) -> None:
    os_facts = info(builtin_tools, "os")
    assert os_facts["system"] == platform.system()
    assert os_facts["release"] == platform.release()
    assert os_facts["hostname"] == socket.gethostname()


def test_uptime_reports_boot_time_and_a_human_duration(builtin_tools: Registry) -> None:
    uptime = info(builtin_tools, "uptime")
    assert uptime["boot_time"] == datetime.fromtimestamp(psutil.boot_time()).isoformat(timespec="seconds")
    assert uptime["human"].split(", ")[-1].count(":") == 1


def test_battery_not_available_without_one(builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(psutil, "sensors_battery", lambda: None, raising=False)
    assert info(builtin_tools, "battery") == "not available"


def test_battery_reports_charge_and_time_left(builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(psutil, "sensors_battery", lambda: Battery(83.456, 2 * 3600 + 5 * 60, False), raising=False)
    assert info(builtin_tools, "battery") == {"percent": 83.5, "plugged_in": False, "time_left": "2:05"}
    monkeypatch.setattr(
        psutil, "sensors_battery", lambda: Battery(100, psutil.POWER_TIME_UNLIMITED, True), raising=False
    )
    assert info(builtin_tools, "battery") == {"percent": 100, "plugged_in": True}


def test_sensors_not_available_without_any(builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: {}, raising=False)
    monkeypatch.setattr(psutil, "sensors_fans", lambda: {}, raising=False)
    assert info(builtin_tools, "sensors") == "not available"


def test_sensors_report_temperatures_and_summary_takes_the_max(
    builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = {"coretemp": [Temperature("Core 0", 51.0, 80.0, 100.0), Temperature("", 63.0, None, None)]}
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: readings, raising=False)
    monkeypatch.setattr(psutil, "sensors_fans", lambda: {}, raising=False)
    assert info(builtin_tools, "sensors") == {
        "temperatures": {
            "coretemp": [
                {"label": "Core 0", "current": 51.0, "high": 80.0, "critical": 100.0},
                {"label": "coretemp", "current": 63.0, "high": None, "critical": None},
            ]
        }
    }
    assert info(builtin_tools, "all")["max_temperature_c"] == 63.0


def test_all_is_a_compact_summary_of_every_part(builtin_tools: Registry) -> None:
    summary = info(builtin_tools, "all")
    assert set(summary) == {
        "os", "hostname", "uptime", "cpu", "memory", "swap", "disks", "network", "battery", "max_temperature_c",
    }  # fmt: skip
    assert summary["cpu"]["cores"] == psutil.cpu_count()
    assert summary["hostname"] == socket.gethostname()
    assert "/" in [disk["mount"] for disk in summary["disks"]]
    assert len(json.dumps(summary)) < 1500  # it goes into a small model's context on every "how is my machine"


def test_unknown_part_lists_the_allowed_values(builtin_tools: Registry) -> None:
    result = builtin_tools.get("system.info").call({"part": "gpu"})
    assert not result.ok and result.error.startswith("invalid arguments for system.info: part:")
    assert "'battery'" in result.error
