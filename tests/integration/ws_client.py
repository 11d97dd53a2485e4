"""A training stream client written like the API contract's example, and the order checks the
stream must pass. Also a command: follow a job on a running server and check its stream.

    /usr/bin/python3 ws_client.py ws://127.0.0.1:8000 JOB_ID [--token T]
"""
import argparse
import asyncio
import json
import sys

import websockets
import websockets.exceptions

TERMINAL_TYPES = ("completed", "error", "stopped")


async def follow(uri, token=None, on_message=None):
    """Reads the stream to its end. Returns (messages, close_code, close_reason)."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    messages = []
    async with websockets.connect(uri, extra_headers=headers) as websocket:
        try:
            async for message in websocket:
                data = json.loads(message)
                messages.append(data)
                if on_message:
                    on_message(data)
        except websockets.exceptions.ConnectionClosedError:
            pass
    return messages, websocket.close_code, websocket.close_reason


def print_like_the_contract(data):
    print(f"Epoch {data['epoch']}: Loss={data['metrics']['loss']:.4f}", flush=True)


def order_problems(messages):
    """Everything wrong with a complete stream, as readable strings (empty when it is right)."""
    problems = []
    if not messages or messages[0]["type"] != "status":
        problems.append("the first message is not a status snapshot")
    for index, data in enumerate(messages):
        for key in ("type", "job_id", "epoch", "batch", "total_batches", "metrics", "seq",
                    "timestamp"):
            if key not in data:
                problems.append(f"message {index} lacks {key}")
        if not isinstance(data.get("metrics", {}).get("loss"), (int, float)):
            problems.append(f"message {index} has no numeric metrics.loss")
        if index > 1 and data["seq"] <= messages[index - 1]["seq"]:
            problems.append(f"message {index} has seq {data['seq']} after "
                            f"{messages[index - 1]['seq']}")
    problems += epoch_order_problems(messages)
    terminals = [i for i, m in enumerate(messages) if m["type"] in TERMINAL_TYPES]
    if terminals != [len(messages) - 1]:
        problems.append(f"terminal messages at {terminals}, expected only the last one")
    return problems


def epoch_order_problems(messages):
    """Within an epoch: progress, then epoch_end, then validation; epochs in order."""
    problems = []
    phase = {}  # epoch -> the last phase seen: 0 progress, 1 epoch_end, 2 validation
    rank = {"progress": 0, "epoch_end": 1, "validation": 2}
    last_epoch = 0
    for data in messages:
        if data["type"] not in rank:
            continue
        epoch, step = data["epoch"], rank[data["type"]]
        if epoch < last_epoch:
            problems.append(f"epoch {epoch} after epoch {last_epoch}")
        if step < phase.get(epoch, 0) or (step > 0 and step == phase.get(epoch, -1)):
            problems.append(f"{data['type']} of epoch {epoch} out of order")
        phase[epoch] = step
        last_epoch = epoch
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", help="ws://host:port")
    parser.add_argument("job_id")
    parser.add_argument("--token")
    args = parser.parse_args()
    uri = f"{args.url.rstrip('/')}/ws/training/{args.job_id}"
    messages, code, reason = asyncio.run(follow(uri, args.token, print_like_the_contract))
    problems = order_problems(messages)
    types = [m["type"] for m in messages]
    print(f"messages={len(messages)} close={code} {reason!r} "
          f"epoch_end={types.count('epoch_end')} validation={types.count('validation')} "
          f"progress={types.count('progress')} last={types[-1] if types else None}")
    for problem in problems:
        print("PROBLEM:", problem)
    return 0 if not problems and types and types[-1] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
