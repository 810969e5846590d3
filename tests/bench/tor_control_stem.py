#!/usr/bin/python3
"""Stem (Tor's own controller library, Debian's python3-stem) doing what
tor_control_bench does with qnet's client, for the ratio it prints:
  tor_control_stem.py EVENTS_FILE CONTROL_SOCKET ROUND_TRIPS
Prints "parser_events_per_s N" and "getinfo_round_trips_per_s N"."""
import io
import sys
import time

import stem.control
import stem.response
import stem.socket


def parser(path):
    data = open(path, 'rb').read()
    stream = io.BytesIO(data)
    count = 0
    start = time.perf_counter()
    while stream.tell() < len(data):
        msg = stem.socket.recv_message(stream)
        stem.response.convert('EVENT', msg)
        count += 1
    return count / (time.perf_counter() - start)


def round_trips(socket_path, n):
    with stem.control.Controller.from_socket_file(socket_path) as c:
        c.authenticate()
        start = time.perf_counter()
        for _ in range(n):
            c.get_info('status/bootstrap-phase')
        return n / (time.perf_counter() - start)


if __name__ == '__main__':
    print('parser_events_per_s %.0f' % parser(sys.argv[1]))
    print('getinfo_round_trips_per_s %.0f' % round_trips(sys.argv[2], int(sys.argv[3])))
