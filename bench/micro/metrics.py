"""Reads the "METRIC <name> <value> <unit>" lines the micro benchmarks print."""
import os


def load(directory, name):
    """{name: (value, unit)} from the file `name` in `directory`; {} if absent."""
    metrics = {}
    path = os.path.join(directory, name)
    if os.path.exists(path):
        for line in open(path):
            fields = line.split()
            if len(fields) == 4 and fields[0] == "METRIC":
                metrics[fields[1]] = (float(fields[2]), fields[3])
    return metrics
