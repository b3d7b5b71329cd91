#!/usr/bin/env python3
# Captures UDP datagrams on the loopback interface, as the network would see them, so a test
# can replay real heartbeats (Node has no raw sockets). Usage: capture-udp.py DST_ADDR PORT COUNT
# Prints each payload as one hex line; exits after COUNT datagrams or 10 seconds. Needs root.
import socket, sys, time

dst, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
s.bind(('lo', 0))
s.settimeout(0.5)
want = socket.inet_aton(dst)
deadline = time.time() + 10
seen = 0
while seen < count and time.time() < deadline:
    try:
        frame, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] != socket.PACKET_HOST:  # each loopback packet shows once as outgoing, once as incoming
        continue
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 17 or ip[16:20] != want:
        continue
    udp = ip[ihl:]
    if int.from_bytes(udp[2:4], 'big') != port:
        continue
    print(udp[8:].hex(), flush=True)
    seen += 1
