"""200 concurrent client connections, each doing echoes through a hub: all answered, none lost.

The clients speak the Nodus TCP wire format themselves, with python3-msgpack (an independent
msgpack implementation): a version byte, then frames of a big-endian u32 length and
[version, onward route, return route, payload].
"""
import asyncio
import struct

import msgpack

from nodus_processes import Proc, check, main

CLIENTS = 200
ECHOES_PER_CLIENT = 25


def frame(onward, back, payload):
    body = msgpack.packb([1, [[0, a] for a in onward], [[0, a] for a in back], payload], use_bin_type=True)
    return struct.pack(">I", len(body)) + body


async def read_frame(reader):
    (length,) = struct.unpack(">I", await reader.readexactly(4))
    return msgpack.unpackb(await reader.readexactly(length), raw=False)


async def client(host, port, n):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"\x01")
    check(await reader.readexactly(1) == b"\x01", f"client {n}: the hub should open with version 1")
    answered = 0
    for i in range(ECHOES_PER_CLIENT):
        text = f"client {n} message {i}"
        writer.write(frame(["echoer"], [f"client.{n}"], msgpack.packb(text)))
        await writer.drain()
        version, onward, back, payload = await asyncio.wait_for(read_frame(reader), timeout=20)
        check(version == 1 and onward == [[0, f"client.{n}"]] and back == [[0, "echoer"]],
              f"client {n}: unexpected routes {onward} {back}")
        check(msgpack.unpackb(payload) == text, f"client {n}: echo of {text!r} came back as {payload!r}")
        answered += 1
    writer.close()
    await writer.wait_closed()
    return answered


async def all_clients(host, port):
    return await asyncio.wait_for(asyncio.gather(*(client(host, port, n) for n in range(CLIENTS))), timeout=120)


def test(args):
    hub = Proc("nodus hub", [args.nodus, "hub", "--listen", "127.0.0.1:0"])
    host, port = hub.wait_for(r"listening on (127\.0\.0\.1):(\d+)$").groups()
    answered = asyncio.run(all_clients(host, int(port)))
    check(sum(answered) == CLIENTS * ECHOES_PER_CLIENT, f"answered {sum(answered)} of {CLIENTS * ECHOES_PER_CLIENT}")
    print(f"{CLIENTS} connections x {ECHOES_PER_CLIENT} echoes: all {sum(answered)} answered")
    check(hub.stop() == 0, "the hub should exit 0 on SIGTERM")


main(test)
