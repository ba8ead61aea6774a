#!/usr/bin/env python3
"""A seeded access log of many school mornings, for `bench/import-log-memory`.

Usage: make-access-log.py SESSIONS_PER_DAY DAYS SEED > access.log

Each day 07:00-09:00 (+02:00) gets SESSIONS_PER_DAY sessions along the 8:00 wave (85% around
07:55, sigma 12 min; 15% spread evenly), each from its own client, logging in and reading 1-5
pages (each with two static assets) with pauses of 2 s to 3 min. Lines are in time order, as a
web server writes them. Same arguments, same log.
"""
import datetime
import heapq
import random
import sys

PAGES = ["/agenda", "/homework", "/files/{}", "/messages", "/grades"]


def day_lines(rng, day, sessions, first_client):
    tz = datetime.timezone(datetime.timedelta(hours=2))
    start = datetime.datetime(2020, 9, 7, 7, 0, tzinfo=tz) + datetime.timedelta(days=day)
    lines = []
    for s in range(sessions):
        minute = 55 + 12 * rng.gauss(0, 1) if rng.random() < 0.85 else 120 * rng.random()
        if not 0 <= minute < 120:
            continue
        c = first_client + s
        addr = f"10.{c // 65536 % 256}.{c // 256 % 256}.{c % 256}"
        agent = f"Mozilla/5.0 (client {c // 16777216})"
        t = start + datetime.timedelta(seconds=minute * 60)
        lines.append((t, addr, "POST", "/login", agent))
        for _ in range(rng.randint(1, 5)):
            t += datetime.timedelta(seconds=rng.uniform(2, 180))
            page = rng.choice(PAGES).replace("{}", str(rng.randint(8000, 8899)))
            lines += [(t, addr, "GET", page, agent), (t, addr, "GET", "/static/app.js", agent),
                      (t, addr, "GET", "/static/app.css", agent)]
    lines.sort(key=lambda l: l[0])
    return lines


def main():
    per_day, days, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    out = sys.stdout
    for day in range(days):
        for t, addr, method, path, agent in day_lines(rng, day, per_day, day * per_day):
            stamp = t.strftime("%d/%b/%Y:%H:%M:%S %z")
            out.write(f'{addr} - - [{stamp}] "{method} {path} HTTP/1.1" 200 512 "-" "{agent}"\n')


if __name__ == "__main__":
    main()
