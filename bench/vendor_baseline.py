"""The baseline: what users run today, a copy of the vendor's integration pattern.

Phonexia's Python guides for Speech Platform 4 (the "task lifecycle" examples) do, per file: open
the files, POST them with ``requests``, take the ``Location`` header, GET it, and while the task is
``pending`` or ``running`` sleep 5 s and GET again; then print the result. Users wrap that in a loop
over their pairs, one pair after another. This script is that loop, unchanged in what it sends and
when; the only addition is one JSON line per pair on stdout (job id, score, the wall-clock time the
score was printed) so the benchmark can match it against the emulator's accounting.

    python3 bench/vendor_baseline.py <base-url> <pairs.tsv>

``pairs.tsv``: one ``<reference path>\\t<questioned path>`` per line. Runs until the list ends or it
is killed (the benchmark stops it once it has enough pairs).
"""

import json
import sys
import time

import requests

ENDPOINT = "/api/technology/experimental/referential-deepfake-detection"


def detect(base_url, reference, questioned):
    # --- the vendor's pattern, as in its guides ---
    with open(reference, mode="rb") as file_reference, open(questioned, mode="rb") as file_questioned:
        files = {"file_reference": file_reference, "file_questioned": file_questioned}
        start_task_response = requests.post(url=base_url + ENDPOINT, files=files)
    start_task_response.raise_for_status()
    polling_url = start_task_response.headers["Location"]

    polling_task_response = requests.get(polling_url)
    while polling_task_response.status_code == 200:
        polling_task_response_json = polling_task_response.json()
        task_status = polling_task_response_json["task"]["state"]
        if task_status not in {"pending", "running"}:
            break
        time.sleep(5)
        polling_task_response = requests.get(polling_url)
    # --- end of the vendor's pattern ---
    return polling_task_response.json()


def main():
    base_url, pairs_file = sys.argv[1], sys.argv[2]
    with open(pairs_file, encoding="utf-8") as lines:
        pairs = [line.rstrip("\n").split("\t") for line in lines if line.strip()]
    for reference, questioned in pairs:
        started = time.time()
        answer = detect(base_url, reference, questioned)
        score = (answer.get("result") or {}).get("score")
        printed = time.time()
        print(
            json.dumps(
                {
                    "jobId": answer["task"]["task_id"],
                    "state": answer["task"]["state"],
                    "score": score,
                    "startedAt": started * 1000,
                    "printedAt": printed * 1000,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
