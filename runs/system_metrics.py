"""Titles and units of the system metrics the wandb client sends (`system.gpu.0.temp`,
`system.proc.memory.rssMB`, ...), for the run page's System charts and their chart data."""

import re
from dataclasses import dataclass

PREFIX = "system."

# The client's key patterns (without "system.") -> title and unit; named groups fill the title.
# First match wins. Units follow the client: memory in MB, disk I/O in MB, network in bytes; a
# count names what it counts ("threads"). Key names as the 0.31 client's system monitor sends them.
PATTERNS = [
    (r"cpu", "Process CPU utilisation", "%"),
    (r"cpu\.(?P<n>\d+)\.cpu_percent", "CPU {n} utilisation", "%"),
    (r"cpu\.pcpu_percent", "Performance cores utilisation", "%"),
    (r"cpu\.ecpu_percent", "Efficiency cores utilisation", "%"),
    (r"cpu\.avg_temp", "CPU temperature", "°C"),
    (r"proc\.cpu\.threads", "Process threads", "threads"),
    (r"proc\.cpu\.throttledPercent", "Process CPU throttled", "%"),
    (r"memory_percent|memory", "System memory used", "%"),
    (r"swap\.used_percent", "Swap used", "%"),
    (r"proc\.memory\.rssMB", "Process memory", "MB"),
    (r"proc\.memory\.percent", "Process memory", "%"),
    (r"proc\.memory\.availableMB", "Memory available", "MB"),
    (r"proc\.memory\.oomKills", "Out-of-memory kills", "kills"),
    (r"disk\.(?P<path>.+)\.usagePercent", "Disk {path} used", "%"),
    (r"disk\.(?P<path>.+)\.usageGB", "Disk {path} used", "GB"),
    # Read and written since the run started, in total (all devices) or by device.
    (r"disk\.in", "Disk read", "MB"),
    (r"disk\.out", "Disk written", "MB"),
    (r"disk\.(?P<device>.+)\.in", "Disk {device} read", "MB"),
    (r"disk\.(?P<device>.+)\.out", "Disk {device} written", "MB"),
    (r"network\.sent", "Network sent", "bytes"),
    (r"network\.recv", "Network received", "bytes"),
    (r"network\.tcpRetransmits", "TCP retransmits", "segments"),
    (r"gpu\.(?P<n>\d+)\.gpu", "GPU {n} utilisation", "%"),
    (r"gpu\.(?P<n>\d+)\.memory", "GPU {n} memory utilisation", "%"),
    (r"gpu\.(?P<n>\d+)\.memoryAllocated", "GPU {n} memory allocated", "%"),
    (r"gpu\.(?P<n>\d+)\.memoryAllocatedBytes", "GPU {n} memory allocated", "bytes"),
    (r"gpu\.(?P<n>\d+)\.memoryUsed", "GPU {n} memory used", "bytes"),
    (r"gpu\.(?P<n>\d+)\.memoryTotal", "GPU {n} memory total", "bytes"),
    (r"gpu\.(?P<n>\d+)\.temp", "GPU {n} temperature", "°C"),
    (r"gpu\.(?P<n>\d+)\.memoryTemp", "GPU {n} memory temperature", "°C"),
    (r"gpu\.(?P<n>\d+)\.powerWatts", "GPU {n} power", "W"),
    (r"gpu\.(?P<n>\d+)\.powerPercent", "GPU {n} power", "%"),
    (r"gpu\.(?P<n>\d+)\.enforcedPowerLimitWatts", "GPU {n} power limit", "W"),
    (r"gpu\.(?P<n>\d+)\.energyJoules", "GPU {n} energy", "J"),
    (r"gpu\.(?P<n>\d+)\.(?P<clock>sm|memory|graphics)Clock", "GPU {n} {clock} clock", "MHz"),
    (r"gpu\.(?P<n>\d+)\.fanSpeed", "GPU {n} fan speed", "%"),
    (r"gpu\.(?P<n>\d+)\.encoderUtilization", "GPU {n} encoder utilisation", "%"),
    (r"gpu\.(?P<n>\d+)\.correctedMemoryErrors", "GPU {n} corrected memory errors", "errors"),
    (r"gpu\.(?P<n>\d+)\.uncorrectedMemoryErrors", "GPU {n} uncorrected memory errors", "errors"),
    (r"gpu\.(?P<n>\d+)\.pcieLinkGen", "GPU {n} PCIe generation", ""),
    (r"gpu\.(?P<n>\d+)\.maxPcieLinkGen", "GPU {n} PCIe generation, max", ""),
    (r"gpu\.(?P<n>\d+)\.pcieLinkWidth", "GPU {n} PCIe link width", "lanes"),
    (r"gpu\.(?P<n>\d+)\.maxPcieLinkWidth", "GPU {n} PCIe link width, max", "lanes"),
    (r"gpu\.(?P<n>\d+)\.pcie(?P<way>Tx|Rx)Bytes", "GPU {n} PCIe {way}", "bytes"),
    (r"gpu\.(?P<n>\d+)\.nvlink(?P<way>Tx|Rx)Bytes", "GPU {n} NVLink {way}", "bytes"),
    (r"gpu\.process\.(?P<n>\d+)\.gpu", "GPU {n} utilisation by the run", "%"),
    (r"gpu\.process\.(?P<n>\d+)\.memory", "GPU {n} memory utilisation by the run", "%"),
    (r"gpu\.process\.(?P<n>\d+)\.memoryAllocated", "GPU {n} memory allocated by the run", "%"),
    (
        r"gpu\.process\.(?P<n>\d+)\.memoryAllocatedBytes",
        "GPU {n} memory allocated by the run",
        "bytes",
    ),
    (r"gpu\.process\.(?P<n>\d+)\.temp", "GPU {n} temperature", "°C"),
    (r"gpu\.process\.(?P<n>\d+)\.powerWatts", "GPU {n} power", "W"),
    (r"gpu\.process\.(?P<n>\d+)\.powerPercent", "GPU {n} power", "%"),
    (r"tpu\.(?P<n>\d+)\.dutyCycle", "TPU {n} duty cycle", "%"),
    (r"tpu\.(?P<n>\d+)\.tensorcoreUtilization", "TPU {n} TensorCore utilisation", "%"),
    (r"tpu\.(?P<n>\d+)\.runtimeHbmUtilization", "TPU {n} HBM utilisation", "%"),
    (r"tpu\.(?P<n>\d+)\.hbmCapacityUsage", "TPU {n} HBM used", "bytes"),
    (r"tpu\.(?P<n>\d+)\.hbmCapacityTotal", "TPU {n} HBM total", "bytes"),
]
COMPILED = [(re.compile(pattern), title, unit) for pattern, title, unit in PATTERNS]


@dataclass(frozen=True)
class SystemMetric:
    key: str
    title: str
    unit: str

    @property
    def label(self) -> str:
        """ "GPU 0 temperature (°C)"; the title alone when there is no unit or the title
        names it ("Process threads")."""
        if not self.unit or self.unit.lower() in self.title.lower().split():
            return self.title
        return f"{self.title} ({self.unit})"


def system_metric(key: str) -> SystemMetric:
    """The title and unit of a system metric key; an unknown key is its own title."""
    name = key.removeprefix(PREFIX)
    for pattern, title, unit in COMPILED:
        match = pattern.fullmatch(name)
        if match:
            return SystemMetric(key, title.format(**match.groupdict()), unit)
    return SystemMetric(key, name, "")
