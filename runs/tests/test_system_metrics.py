"""System charts carry human titles and units, from one mapping of the wandb client's system
metric keys, on the run page and in the chart data."""

import pytest

from runs.ingest import EVENTS_FILE
from runs.system_metrics import system_metric
from runs.tests.test_run_sections import login, send, url
from tests.factories import ProjectFactory, RunFactory


@pytest.fixture
def make_run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    return lambda run_id: RunFactory(project=project, author=alice, run_id=run_id)


@pytest.mark.parametrize(
    ("key", "label", "unit"),
    [
        ("system.gpu.0.gpu", "GPU 0 utilisation (%)", "%"),
        ("system.gpu.1.memory", "GPU 1 memory utilisation (%)", "%"),
        ("system.gpu.0.memoryAllocated", "GPU 0 memory allocated (%)", "%"),
        ("system.gpu.0.memoryAllocatedBytes", "GPU 0 memory allocated (bytes)", "bytes"),
        ("system.gpu.0.temp", "GPU 0 temperature (°C)", "°C"),
        ("system.gpu.12.powerWatts", "GPU 12 power (W)", "W"),
        ("system.gpu.0.powerPercent", "GPU 0 power (%)", "%"),
        ("system.gpu.0.smClock", "GPU 0 sm clock (MHz)", "MHz"),
        ("system.gpu.process.0.gpu", "GPU 0 utilisation by the run (%)", "%"),
        (
            "system.gpu.process.0.memoryAllocatedBytes",
            "GPU 0 memory allocated by the run (bytes)",
            "bytes",
        ),
        ("system.gpu.process.0.powerPercent", "GPU 0 power (%)", "%"),
        ("system.gpu.0.memoryUsed", "GPU 0 memory used (bytes)", "bytes"),
        ("system.gpu.0.memoryTotal", "GPU 0 memory total (bytes)", "bytes"),
        ("system.gpu.0.memoryTemp", "GPU 0 memory temperature (°C)", "°C"),
        ("system.gpu.0.enforcedPowerLimitWatts", "GPU 0 power limit (W)", "W"),
        ("system.gpu.0.energyJoules", "GPU 0 energy (J)", "J"),
        ("system.gpu.0.memoryClock", "GPU 0 memory clock (MHz)", "MHz"),
        ("system.gpu.0.graphicsClock", "GPU 0 graphics clock (MHz)", "MHz"),
        ("system.gpu.0.fanSpeed", "GPU 0 fan speed (%)", "%"),
        ("system.gpu.0.encoderUtilization", "GPU 0 encoder utilisation (%)", "%"),
        ("system.gpu.0.correctedMemoryErrors", "GPU 0 corrected memory errors", "errors"),
        ("system.gpu.0.uncorrectedMemoryErrors", "GPU 0 uncorrected memory errors", "errors"),
        ("system.gpu.0.pcieLinkGen", "GPU 0 PCIe generation", ""),
        ("system.gpu.0.maxPcieLinkGen", "GPU 0 PCIe generation, max", ""),
        ("system.gpu.0.pcieLinkWidth", "GPU 0 PCIe link width (lanes)", "lanes"),
        ("system.gpu.0.maxPcieLinkWidth", "GPU 0 PCIe link width, max (lanes)", "lanes"),
        ("system.gpu.0.pcieTxBytes", "GPU 0 PCIe Tx (bytes)", "bytes"),
        ("system.gpu.0.nvlinkRxBytes", "GPU 0 NVLink Rx (bytes)", "bytes"),
        ("system.tpu.0.dutyCycle", "TPU 0 duty cycle (%)", "%"),
        ("system.tpu.1.tensorcoreUtilization", "TPU 1 TensorCore utilisation (%)", "%"),
        ("system.tpu.0.runtimeHbmUtilization", "TPU 0 HBM utilisation (%)", "%"),
        ("system.tpu.0.hbmCapacityUsage", "TPU 0 HBM used (bytes)", "bytes"),
        ("system.tpu.0.hbmCapacityTotal", "TPU 0 HBM total (bytes)", "bytes"),
        ("system.cpu", "Process CPU utilisation (%)", "%"),
        ("system.cpu.3.cpu_percent", "CPU 3 utilisation (%)", "%"),
        ("system.proc.cpu.threads", "Process threads", "threads"),
        ("system.proc.cpu.throttledPercent", "Process CPU throttled (%)", "%"),
        ("system.cpu.pcpu_percent", "Performance cores utilisation (%)", "%"),
        ("system.cpu.ecpu_percent", "Efficiency cores utilisation (%)", "%"),
        ("system.cpu.avg_temp", "CPU temperature (°C)", "°C"),
        ("system.swap.used_percent", "Swap used (%)", "%"),
        ("system.proc.memory.oomKills", "Out-of-memory kills", "kills"),
        ("system.memory_percent", "System memory used (%)", "%"),
        ("system.proc.memory.rssMB", "Process memory (MB)", "MB"),
        ("system.proc.memory.percent", "Process memory (%)", "%"),
        ("system.proc.memory.availableMB", "Memory available (MB)", "MB"),
        ("system.disk./.usagePercent", "Disk / used (%)", "%"),
        ("system.disk./data.usageGB", "Disk /data used (GB)", "GB"),
        ("system.disk.in", "Disk read (MB)", "MB"),
        ("system.disk.out", "Disk written (MB)", "MB"),
        ("system.disk.vda.in", "Disk vda read (MB)", "MB"),
        ("system.disk.nvme0n1.out", "Disk nvme0n1 written (MB)", "MB"),
        ("system.network.tcpRetransmits", "TCP retransmits (segments)", "segments"),
        ("system.network.sent", "Network sent (bytes)", "bytes"),
        ("system.network.recv", "Network received (bytes)", "bytes"),
        # Unknown keys keep their own name.
        ("system.tpu", "tpu", ""),
        ("system.gpu.0.somethingNew", "gpu.0.somethingNew", ""),
        ("system.cpu.x.cpu_percent", "cpu.x.cpu_percent", ""),
    ],
)
def test_system_metric_titles_and_units(key, label, unit):
    metric = system_metric(key)

    assert (metric.key, metric.label, metric.unit) == (key, label, unit)


def test_run_page_titles_system_charts_with_units(client, bob, make_run):
    run = make_run(run_id="sys")
    send(run, EVENTS_FILE, [{"_runtime": 1.0, "system.gpu.0.temp": 61.0, "system.tpu": 3.0}])
    login(client, bob)

    html = client.get(url("runs:detail", run)).content.decode()

    assert (
        '<div class="chart" data-chart data-key="system.gpu.0.temp" data-stream="system" '
        'data-x="runtime" data-unit="°C"'
    ) in html
    assert "<figcaption>GPU 0 temperature (°C)</figcaption>" in html
    assert "<figcaption>tpu</figcaption>" in html


def test_system_chart_data_carries_the_title_and_unit(client, bob, make_run):
    run = make_run(run_id="sys")
    send(run, EVENTS_FILE, [{"_runtime": 1.0, "system.proc.memory.rssMB": 4096.0}])
    login(client, bob)

    data = client.get(
        url("runs:metric", run, key="system.proc.memory.rssMB", stream="system")
    ).json()
    history = client.get(url("runs:metric", run, key="loss")).json()

    assert (data["title"], data["unit"]) == ("Process memory (MB)", "MB")
    assert data["value"] == [4096.0]
    assert "title" not in history
