#!/usr/bin/env python3
"""The demo's synthetic cohort and its expectation, computed apart from the stages' code.

`generate` writes a realistic cohort as upstream records (one JSONL file per phase: a snapshot, a burst of
real-time churn with identifier changes and consent withdrawals, a second snapshot, an audience deletion)
and, for each phase, the audiences the ads sandbox must hold afterwards, hash for hash.

`wait` polls the sandbox until it holds exactly a phase's expectation, printing progress, and fails with a
difference summary if it does not get there in time. `report` prints the closing table.

The expectation is a second, deliberately plain implementation of CohortSync's rules (docs/design.md,
"Identifier rules" and "The batcher"): it knows only the identifier shapes this generator writes, and stops
with an error on any other, so it can never silently agree with the pipeline by sharing its code.
"""

import argparse
import hashlib
import json
import os
import random
import sys
import time
import unicodedata
import urllib.request

AUDIENCES = {
    "aud_high_value": "High value buyers",
    "aud_cart_abandoners": "Cart abandoners",
}
DELETED_AUDIENCE = "aud_cart_abandoners"

# connection id prefix -> (destination, identifier kinds it forwards, naming)
# An audience the CDP has that no connection syncs: some consent withdrawals arrive with it, and still
# remove the user from every synced audience (consent is the user's, not the audience's).
UNSYNCED_AUDIENCE = "aud_newsletter"

CONNECTIONS = {
    "x-demo": ("x", ["email", "phone", "idfa", "gaid", "x_handle", "x_id"], "single"),
    "tiktok-demo": ("tiktok", ["email", "phone", "idfa", "gaid"], "perIdentifier"),
}
X_KEYS = {"email": "email", "phone": "phone_number", "idfa": "device_id", "gaid": "device_id",
          "x_handle": "handle", "x_id": "twitter_id"}
TIKTOK_KEYS = {"email": "EMAIL_SHA256", "phone": "PHONE_SHA256", "idfa": "IDFA_SHA256", "gaid": "AAID_SHA256"}
FIRST = ["ada", "grace", "alan", "edsger", "barbara", "donald", "frances", "ken", "radia", "tim"]
LAST = ["lovelace", "hopper", "turing", "dijkstra", "liskov", "knuth", "allen", "thompson", "perlman", "lee"]
DOMAINS = ["example.com", "Example.org", "mail.example.net"]


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


# ---- the rules, plainly (only the shapes `Cohort` writes) -------------------------------------------------

class Refused(Exception):
    """An identifier the destination refuses; `reason` is the pipeline's refusal reason."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def is_digest(value):
    text = value.strip()
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


# Invisible-by-default code points outside the categories above (Unicode's Default_Ignorable_Code_Point), and
# the replacement character: the stages refuse them inside an address too.
INVISIBLE = [(0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x3164, 0x3164),
             (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFFD, 0xFFFD), (0xE0100, 0xE01EF)]


def normalize_email(value, destination):
    text = value.strip().lower()
    if text.count("@") != 1:
        raise Refused("invalid-email")
    local, domain = text.split("@")
    dot = domain.rfind(".")
    if not local or len(domain) < 3 or domain.startswith(".") or dot <= 0 or dot == len(domain) - 1:
        raise Refused("invalid-email")
    if any(c.isspace() or c in ",;" or unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn", "Cs")
           or any(low <= ord(c) <= high for low, high in INVISIBLE) for c in text):
        raise Refused("invalid-email")
    if destination == "tiktok" and "+" in local:
        local = local[:local.index("+")]
    return local + "@" + domain


def normalize_phone(value, destination):
    """The forms the generator writes, read with a US default region: `+CC …`, `011 CC …`, `1-NXX-…`, national."""
    text = value.strip()
    if any(c.isalpha() for c in text):
        raise Refused("invalid-phone")
    digits = "".join(c for c in text if c.isdigit())
    if text.startswith("+"):
        number = digits
    elif digits.startswith("011"):
        number = digits[3:]
    elif len(digits) == 11 and digits.startswith("1"):
        number = digits
    elif len(digits) == 10:
        number = "1" + digits
    elif len(digits) < 7:
        raise Refused("invalid-phone")
    else:
        raise ValueError("the model does not know this phone shape: %r" % value)
    if number.startswith("1") and len(number) != 11 or number.startswith("44") and len(number) != 12:
        raise Refused("invalid-phone")
    return ("+" if destination == "x" else "") + number


def normalize_device(value):
    text = value.strip().lower()
    if len(text) == 32 and all(c in "0123456789abcdef" for c in text):
        text = "-".join([text[:8], text[8:12], text[12:16], text[16:20], text[20:]])
    parts = text.split("-")
    if [len(p) for p in parts] != [8, 4, 4, 4, 12] or not all(c in "0123456789abcdef" for c in "".join(parts)):
        raise Refused("invalid-device-id")
    if set("".join(parts)) == {"0"}:
        raise Refused("zero-device-id")
    return text


def digest(kind, value, destination):
    """The hex digest the destination receives for one identifier, or `Refused`."""
    if is_digest(value):
        return value.strip().lower()
    if kind == "email":
        return sha256(normalize_email(value, destination))
    if kind == "phone":
        return sha256(normalize_phone(value, destination))
    if kind in ("idfa", "gaid"):
        return sha256(normalize_device(value))
    if kind == "x_handle":
        return sha256(value.strip().lstrip("@").lower())
    if kind == "x_id":
        return sha256(value.strip())
    raise ValueError("the model does not know identifier kind %r" % kind)


def member_keys(user, destination, forward):
    """(key, digest) pairs a connection sends for a user, and the refusal reasons of the rest."""
    keys, refusals = [], []
    for kind in forward:
        if kind not in user["ids"]:
            continue
        try:
            key = (X_KEYS if destination == "x" else TIKTOK_KEYS)[kind]
            keys.append((key, digest(kind, user["ids"][kind], destination)))
        except Refused as refusal:
            refusals.append(refusal.reason)
    return keys, refusals


class Model:
    """Who each sync holds: per (connection, audience), user id -> the user's latest record."""

    def __init__(self):
        self.held = {(c, a): {} for c in CONNECTIONS for a in AUDIENCES}
        self.deleted = set()

    def member(self, audience, user):
        if not user["consent"]:
            # Whatever audience the record names (UNSYNCED_AUDIENCE too): both connections sync every demo audience.
            for connection in CONNECTIONS:
                for other in AUDIENCES:
                    self.held[(connection, other)].pop(user["id"], None)
            return
        for connection in CONNECTIONS:
            self.held[(connection, audience)][user["id"]] = user

    def exit(self, audience, user_id):
        for connection in CONNECTIONS:
            self.held[(connection, audience)].pop(user_id, None)

    def snapshot(self, audience, users):
        for connection in CONNECTIONS:
            self.held[(connection, audience)] = {}
        for user in users:
            self.member(audience, user)

    def delete(self, audience):
        self.deleted.add(audience)
        for connection in CONNECTIONS:
            self.held[(connection, audience)] = {}

    def expectation(self, run):
        """Every destination audience: its name and members as the sandbox lists them (canonical strings)."""
        audiences = []
        for (connection, audience), users in sorted(self.held.items()):
            destination, forward, naming = CONNECTIONS[connection]
            scopes = [None] if naming == "single" else forward
            for scope in scopes:
                name = AUDIENCES[audience] + ("" if scope is None else " (%s)" % scope)
                members = set()
                for user in users.values():
                    keys, _ = member_keys(user, destination, forward if scope is None else [scope])
                    if keys:
                        members.add(canonical_member(keys))
                audiences.append({
                    "destination": destination, "connection": "%s-%s" % (connection, run), "audience": audience,
                    "name": name, "deleted": audience in self.deleted, "members": sorted(members),
                })
        return audiences


def canonical_member(pairs):
    """`key=d1,d2;key2=d3`, keys and digests sorted: one member, comparable across both sides."""
    by_key = {}
    for key, value in pairs:
        by_key.setdefault(key, set()).add(value)
    return ";".join("%s=%s" % (key, ",".join(sorted(by_key[key]))) for key in sorted(by_key))


# ---- the cohort ---------------------------------------------------------------------------------------------

class Cohort:
    """Users with identifiers mixed as a CDP has them: some missing, some malformed, some pre-hashed, some
    without consent."""

    def __init__(self, seed):
        self.random = random.Random(seed)
        self.generation = {}

    def user(self, index, revoked=False):
        r = self.random
        generation = self.generation.get(index, 0)
        ids = {}
        first, last = FIRST[index % len(FIRST)], LAST[(index // len(FIRST)) % len(LAST)]
        local = "%s.%s%d%s" % (first, last, index, "" if generation == 0 else "v%d" % generation)
        roll = r.random()
        if roll < 0.70:
            email = local + (r.choice(["+news", "+promo"]) if r.random() < 0.15 else "") + "@" + r.choice(DOMAINS)
            ids["email"] = r.choice([email, email.upper(), "  %s " % email, email.title()])
        elif roll < 0.78:
            ids["email"] = sha256(local + "@example.com").upper()  # pre-hashed by the CDP
        elif roll < 0.82:
            ids["email"] = r.choice([local + ".example.com", local + "@localhost", "@" + local])  # malformed
        if r.random() < 0.55:
            # Unique per (user, generation), so no two users ever share a number.
            national = "%03d%07d" % (300 + 10 * generation + index // 8_000_000, 2_000_000 + index % 8_000_000)
            gb = "7%09d" % (index + generation * 100_000_000)
            ids["phone"] = r.choice([
                "(%s) %s-%s" % (national[:3], national[3:6], national[6:]),
                "%s.%s.%s" % (national[:3], national[3:6], national[6:]),
                "+1 %s %s %s" % (national[:3], national[3:6], national[6:]),
                "1-%s-%s-%s" % (national[:3], national[3:6], national[6:]),
                "+44 %s %s" % (gb[:4], gb[4:]),
                "011 44 %s %s" % (gb[:4], gb[4:]),
                "555-01", "call me",
            ])
        if r.random() < 0.35:
            ids["idfa"] = str(self.uuid()).upper()
        elif r.random() < 0.3:
            ids["gaid"] = r.choice([self.uuid(), self.uuid().replace("-", ""),
                                    "00000000-0000-0000-0000-000000000000", "not-a-device"])
        if r.random() < 0.25:
            ids["x_handle"] = r.choice(["@", ""]) + "%s_%d" % (first.title(), index)
        if r.random() < 0.15:
            ids["x_id"] = str(10**17 + index * 10 + generation)
        # Consent is the user's, not the record's: about 3 % never gave it, and a withdrawal is for good.
        consent = not revoked and index % 33 != 7
        return {"id": "u_%d" % index, "ids": ids, "consent": consent}

    def uuid(self):
        h = "%032x" % self.random.getrandbits(128)
        return "-".join([h[:8], h[8:12], h[12:16], h[16:20], h[20:]])

    def changed(self, index, revoked=False):
        """The same user with new identifiers (an identifier change upstream); a withdrawal stays."""
        self.generation[index] = self.generation.get(index, 0) + 1
        return self.user(index, revoked)


def upstream_user(user):
    return dict({"id": user["id"]}, **user["ids"])


def record(audience, body):
    return "%s|%s" % (audience, json.dumps(dict({"audience": {"id": audience}}, **body), separators=(",", ":")))


def snapshot_records(audience, snapshot, users):
    lines = [record(audience, {"type": "snapshot_begin", "snapshot": snapshot})]
    for user in users:
        lines.append(record(audience, {"type": "snapshot_member", "snapshot": snapshot,
                                       "user": upstream_user(user), "consent": {"ads": user["consent"]}}))
    lines.append(record(audience, {"type": "snapshot_end", "snapshot": snapshot, "members": len(users)}))
    return lines


def demo_config(run, sandbox_url):
    """The pipeline's configuration: both connections, every demo audience synced in real time."""
    credentials = {
        "x": {"consumerKey": {"env": "X_CONSUMER_KEY"}, "consumerSecret": {"env": "X_CONSUMER_SECRET"},
              "token": {"env": "X_TOKEN"}, "tokenSecret": {"env": "X_TOKEN_SECRET"}},
        "tiktok": {"accessToken": {"env": "TIKTOK_ACCESS_TOKEN"}},
    }
    connections = []
    for connection, (destination, forward, naming) in CONNECTIONS.items():
        entry = {"id": "%s-%s" % (connection, run), "destination": destination,
                 "credentials": credentials[destination], "forward": forward, "audienceNaming": naming,
                 "apiBaseURL": sandbox_url + ("/12" if destination == "x" else "/open_api/v1.3"),
                 "defaultRegion": "US"}
        entry["account" if destination == "x" else "advertiser"] = "18ce54d4x5t" if destination == "x" else "7012345678901234567"
        connections.append(entry)
    syncs = [{"audience": audience, "connection": "%s-%s" % (connection, run), "cadence": "realtime",
              "maxDelaySeconds": 1} for audience in AUDIENCES for connection in CONNECTIONS]
    return {"connections": connections, "syncs": syncs}


def generate(args):
    cohort, model = Cohort(args.seed), Model()
    n = args.members
    rng = random.Random(args.seed + 1)
    latest = {}  # user index -> latest user record (identifiers and consent)
    revoked = set()
    phases = []

    # Phase 1: both audiences arrive as complete snapshots, overlapping as real audiences do.
    lines = [record(a, {"type": "audience", "action": "created", "audience": {"id": a, "name": AUDIENCES[a]}})
             for a in AUDIENCES]
    members = {"aud_high_value": range(0, int(n * 0.6)), "aud_cart_abandoners": range(int(n * 0.45), n)}
    for audience, indices in members.items():
        users = []
        for index in indices:
            latest.setdefault(index, cohort.user(index))
            users.append(latest[index])
        lines += snapshot_records(audience, "s1-%s" % audience, users)
        model.snapshot(audience, users)
    # Records a CDP gets wrong now and then: ingest dead-letters each (cohortsync.dlq.v1) and goes on.
    lines += [
        "aud_high_value|{\"type\":\"membership\",\"audience\":{\"id\":\"aud_high_value\"},\"action\":\"enter\"",
        record("aud_high_value", {"type": "membership", "action": "enter"}),
        record("aud_high_value", {"type": "membership", "action": "joined", "user": {"id": "u_0"}}),
        record("aud_high_value", {"type": "page_view", "user": {"id": "u_1"}}),
    ]
    phases.append(("snapshot", lines, model.expectation(args.run)))

    # Phase 2: real-time churn: enters, exits, identifier changes, consent withdrawals.
    lines = []
    # Each user has at most one churn event, so the expectation does not depend on how the stages interleave
    # the two audiences' partitions (a withdrawal in one audience removes the user from both).
    churn = max(10, int(n * args.churn))
    state = {a: set(r) for a, r in members.items()}
    candidates = {a: sorted(r) for a, r in members.items()}
    used = set()
    newcomer = iter(range(n, n + churn))
    for _ in range(churn):
        audience = rng.choice(list(AUDIENCES))
        roll = rng.random()
        if roll < 0.35:
            index = next(newcomer)
            latest[index] = cohort.user(index)
            kind = "enter"
        else:
            index = rng.choice(candidates[audience])
            if index in used:
                continue
            if roll < 0.65:
                kind = "exit"
            elif roll < 0.95:
                latest[index] = cohort.changed(index)
                kind = "enter"
            else:
                revoked.add(index)
                latest[index] = dict(latest[index], consent=False)
                kind = "withdraw elsewhere" if rng.random() < 0.5 else "enter"
        used.add(index)
        if kind == "withdraw elsewhere":
            lines.append(record(UNSYNCED_AUDIENCE, {"type": "membership", "action": "enter", "user": upstream_user(latest[index]),
                                                    "consent": {"ads": False}}))
            model.member(UNSYNCED_AUDIENCE, latest[index])
        elif kind == "exit":
            state[audience].discard(index)
            lines.append(record(audience, {"type": "membership", "action": "exit", "user": {"id": "u_%d" % index}}))
            model.exit(audience, "u_%d" % index)
        else:
            user = latest[index]
            state[audience].add(index)
            lines.append(record(audience, {"type": "membership", "action": "enter", "user": upstream_user(user),
                                           "consent": {"ads": user["consent"]}}))
            model.member(audience, user)
    phases.append(("churn", lines, model.expectation(args.run)))

    # Phase 3: a second snapshot of the first audience: a tenth leave, newcomers join, some change identifiers.
    audience = "aud_high_value"
    kept = [i for i in sorted(state[audience]) if rng.random() >= 0.10]
    newcomers = list(range(n + churn, n + churn + n // 20))
    users = []
    for index in kept + newcomers:
        if index not in latest:
            latest[index] = cohort.user(index)
        elif rng.random() < 0.02:
            latest[index] = cohort.changed(index, revoked=index in revoked)
        users.append(latest[index])
    model.snapshot(audience, users)
    phases.append(("second snapshot", snapshot_records(audience, "s2-%s" % audience, users), model.expectation(args.run)))

    # Phase 4: the second audience is deleted upstream; its destination audiences go with it.
    lines = [record(DELETED_AUDIENCE, {"type": "audience", "action": "deleted"})]
    model.delete(DELETED_AUDIENCE)
    phases.append(("audience deletion", lines, model.expectation(args.run)))

    phases = phases[:args.phases]
    if args.summary:
        for _, _, expected in phases:
            for audience in expected:
                audience["count"], audience["fingerprint"] = len(audience["members"]), fingerprint(audience["members"])
                del audience["members"]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(demo_config(args.run, args.sandbox_url), f, indent=2)
    for number, (name, lines, expected) in enumerate(phases, start=1):
        with open(os.path.join(args.out, "phase-%d.jsonl" % number), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(args.out, "expected-%d.json" % number), "w") as f:
            json.dump({"phase": name, "records": len(lines), "audiences": expected}, f)
    print("generated %d members in %d phases: %s" % (n, len(phases), ", ".join(
        "%s (%d records)" % (name, len(lines)) for name, lines, _ in phases)))


# ---- comparing with the sandbox -----------------------------------------------------------------------------

def fingerprint(members):
    """The sandbox's fingerprint of a member set: the XOR of the SHA-256 of each canonical member, in hex."""
    folded = 0
    for member in members:
        folded ^= int.from_bytes(hashlib.sha256(member.encode()).digest(), "big")
    return "%064x" % folded


def sandbox_audiences(url, members, fingerprints=True):
    """(destination, name) -> one entry per sandbox audience of that name: its member set, or with
    `members=False` its count and fingerprint only (cheap to poll while millions of members arrive), with
    `fingerprints=False` its count and None (cheaper still: the sandbox hashes every member for a fingerprint)."""
    query = "" if members else "?members=false" if fingerprints else "?members=false&fingerprints=false"
    with urllib.request.urlopen(url + "/_sandbox/audiences" + query, timeout=600) as answer:
        listed = json.load(answer)["audiences"]
    found = {}
    for audience in listed:
        if members:
            entry = {canonical_member((key, d) for key, digests in m.items() for d in digests) for m in audience["members"]}
        else:
            entry = (audience["member_count"], audience.get("fingerprint"))
        found.setdefault((audience["destination"], audience["name"]), []).append(entry)
    return found


def differences(expected, found):
    """What is wrong, per destination audience; empty when the sandbox holds exactly the expectation.
    `found` holds member sets or (count, fingerprint) pairs (see `sandbox_audiences`); a pair without its
    fingerprint is compared by count alone."""
    problems = []
    for audience in expected:
        key = (audience["destination"], audience["name"])
        copies = found.get(key, [])
        if audience["deleted"]:
            if copies:
                problems.append("%s %r: deleted upstream, still in the sandbox" % key)
            continue
        want = set(audience.get("members", ()))
        count = audience.get("count", len(want))
        if len(copies) > 1:
            problems.append("%s %r: %d audiences of that name (a duplicate create)" % (key + (len(copies),)))
        if not copies:
            if count:
                problems.append("%s %r: missing (%d members expected)" % (key + (count,)))
            continue
        have = copies[0]
        if isinstance(have, set) and "members" not in audience:
            have = (len(have), fingerprint(have))
        if isinstance(have, tuple):
            if have[0] != count or (have[1] is not None and have[1] != audience["fingerprint"]):
                problems.append("%s %r: %d members, %d expected%s" % (
                    key + (have[0], count, "; same count, other members (fingerprints differ)" if have[0] == count else "")))
        elif have != want:
            problems.append("%s %r: %d members, %d expected; %d missing, %d unexpected" % (
                key + (len(have), len(want), len(want - have), len(have - want))))
    names = {(a["destination"], a["name"]) for a in expected}
    for key in sorted(set(found) - names):
        problems.append("%s %r: not expected at all" % key)
    return problems


def load_phase(path):
    """A phase's expectation, each audience with its member count and fingerprint, as the sandbox reports them."""
    with open(path) as f:
        phase = json.load(f)
    for audience in phase["audiences"]:
        if "members" in audience:
            audience["count"], audience["fingerprint"] = len(audience["members"]), fingerprint(audience["members"])
    return phase


def wait(args):
    phase = load_phase(args.expected)
    started = time.monotonic()
    last_report = 0.0
    while True:
        elapsed = time.monotonic() - started
        try:
            # Counts first: fingerprints, which cost the sandbox a hash per member, only once every count matches.
            found = sandbox_audiences(args.sandbox, members=False, fingerprints=False)
            problems = differences(phase["audiences"], found)
            if not problems:
                found = sandbox_audiences(args.sandbox, members=False)
                problems = differences(phase["audiences"], found)
        except OSError as error:  # the sandbox not up yet, or restarting: it is waited for like the rest
            if elapsed >= args.timeout:
                raise SystemExit("wait: the sandbox at %s did not answer within %.0f s: %s" % (args.sandbox, args.timeout, error))
            time.sleep(1)
            continue
        if not problems:
            print("  %-18s matches the expectation in every audience after %.1f s" % (phase["phase"], elapsed))
            return 0
        if elapsed >= args.timeout:
            print("  %-18s does NOT match after %.0f s:" % (phase["phase"], elapsed))
            for problem in differences(phase["audiences"], sandbox_audiences(args.sandbox, members=True)):
                print("    " + problem)
            return 1
        if elapsed - last_report >= 3:
            held = sum(copies[0][0] for copies in found.values())
            want = sum(a["count"] for a in phase["audiences"] if not a["deleted"])
            print("  %-18s %d of %d audiences differ; sandbox holds %d of %d expected members (%.0f s)" % (
                phase["phase"], len(problems), len(phase["audiences"]), held, want, elapsed), flush=True)
            last_report = elapsed
        time.sleep(1)


def check(args):
    """Exit 0 when the sandbox holds the phase's expectation now, 1 otherwise; prints nothing."""
    phase = load_phase(args.expected)
    try:
        found = sandbox_audiences(args.sandbox, members=False)
    except OSError:
        return 1
    return 1 if differences(phase["audiences"], found) else 0


def metric_samples(url):
    """Prometheus text as (name, labels dict, value); an unreachable endpoint gives nothing."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=10) as answer:
            text = answer.read().decode()
    except OSError:
        return []
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        pairs = {}
        for part in labels.rstrip("}").split('",'):
            if "=" in part:
                k, _, v = part.partition("=")
                pairs[k] = v.strip('"')
        samples.append((name, pairs, float(value)))
    return samples


def total(samples, name, **labels):
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items()))


def report(args):
    with open(args.expected) as f:
        phase = json.load(f)
    found = sandbox_audiences(args.sandbox, members=True)  # the final word: every member, hash for hash
    normalize = metric_samples(args.normalize)
    sandbox = metric_samples(args.sandbox)
    rows = []
    for audience in phase["audiences"]:
        copies = found.get((audience["destination"], audience["name"]), [])
        problems = differences([audience], {k: v for k, v in found.items() if k == (audience["destination"], audience["name"])})
        state = "DIFFERS" if problems else "deleted" if audience["deleted"] else "ok"
        expected = "-" if audience["deleted"] else audience.get("count", len(audience.get("members", ())))
        rows.append((audience["destination"], audience["name"], expected, len(copies[0]) if copies else 0, state))
    names = {(a["destination"], a["name"]) for a in phase["audiences"]}
    for destination, name in sorted(set(found) - names):
        rows.append((destination, name, "-", len(found[(destination, name)][0]), "DIFFERS"))
    print("%-8s %-34s %10s %10s  %s" % ("dest", "audience", "expected", "sandbox", "check"))
    for row in rows:
        print("%-8s %-34s %10s %10d  %s" % row)
    print()
    print("%-8s %10s" % ("dest", "API calls"))
    for destination in sorted({d for d, _, _ in CONNECTIONS.values()}):
        print("%-8s %10d" % (destination, total(sandbox, "cohortsync_sandbox_requests_total", api=destination)))
    print()
    reasons = {}
    for name, labels, value in normalize:
        if name == "cohortsync_normalize_refused_total" and value:
            reasons[labels.get("reason", "?")] = reasons.get(labels.get("reason", "?"), 0) + int(value)
    ingest = metric_samples(args.ingest)
    letters = {}
    for name, labels, value in ingest:
        if name == "cohortsync_ingest_dead_letters_total" and value:
            letters[labels.get("reason", "?")] = letters.get(labels.get("reason", "?"), 0) + int(value)
    print("upstream records dead-lettered by ingest: " + (", ".join("%s %d" % kv for kv in sorted(letters.items())) or "none"))
    print("refused by normalize (users and identifiers, both connections): " +
          (", ".join("%s %d" % kv for kv in sorted(reasons.items())) or "none"))
    print("elapsed: %.1f s" % args.elapsed)
    problems = differences(phase["audiences"], found)
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


def operations(args):
    """User operations the sandbox applied, the duplicates among them (an add of a member already there, a
    removal of one already gone: what crashes and retries cost an at-least-once pipeline), and operations per
    expected member, over every API."""
    with open(args.expected) as f:
        phase = json.load(f)
    samples = metric_samples(args.sandbox)
    counts = {}
    for name, labels, value in samples:
        if name == "cohortsync_sandbox_user_operations_total":
            key = (labels.get("operation"), labels.get("effect"))
            counts[key] = counts.get(key, 0) + int(value)
    total_ops = sum(counts.values())
    duplicates = counts.get(("add", "unchanged"), 0) + counts.get(("remove", "unchanged"), 0)
    members = sum(a.get("count", len(a.get("members", ()))) for a in phase["audiences"] if not a["deleted"])
    print("user operations applied by the sandbox: %d (adds %d, removes %d)" % (
        total_ops, counts.get(("add", "changed"), 0) + counts.get(("add", "unchanged"), 0),
        counts.get(("remove", "changed"), 0) + counts.get(("remove", "unchanged"), 0)))
    print("duplicates sent (changed nothing): %d (%.2f %% of operations)" % (duplicates, 100.0 * duplicates / max(total_ops, 1)))
    print("operations per expected member: %.3f (%d members in the destination audiences)" % (total_ops / max(members, 1), members))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    g = commands.add_parser("generate", help="write the phases' upstream records and expectations")
    g.add_argument("--members", type=int, default=100_000)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--run", required=True, help="the suffix of this run's connection ids")
    g.add_argument("--out", required=True, help="folder for config.json, phase-N.jsonl and expected-N.json")
    g.add_argument("--sandbox-url", default="http://127.0.0.1:8089")
    g.add_argument("--phases", type=int, choices=range(1, 5), default=4, help="write only the first K phases")
    g.add_argument("--churn", type=float, default=0.05, help="real-time churn events as a fraction of --members (phase 2)")
    g.add_argument("--summary", action="store_true",
                   help="expectations as member counts and fingerprints only (for cohorts of millions)")
    w = commands.add_parser("wait", help="wait until the sandbox holds a phase's expectation")
    w.add_argument("--expected", required=True)
    w.add_argument("--sandbox", required=True, help="the sandbox's base URL")
    w.add_argument("--timeout", type=float, default=300)
    r = commands.add_parser("report", help="the closing table")
    r.add_argument("--expected", required=True)
    r.add_argument("--sandbox", required=True)
    r.add_argument("--ingest", required=True, help="ingest's metrics base URL")
    r.add_argument("--normalize", required=True, help="normalize's metrics base URL")
    r.add_argument("--elapsed", type=float, required=True)
    c = commands.add_parser("check", help="exit 0 if the sandbox holds a phase's expectation now, silently")
    c.add_argument("--expected", required=True)
    c.add_argument("--sandbox", required=True)
    o = commands.add_parser("operations", help="what the sandbox received: user operations, duplicates, operations per member")
    o.add_argument("--expected", required=True)
    o.add_argument("--sandbox", required=True)
    args = parser.parse_args()
    if args.command == "generate" and not 100 <= args.members <= 20_000_000:
        parser.error("--members: from 100 (every phase needs members to move) to 20,000,000 (the model keeps them in memory)")
    if args.command == "generate" and not 0 <= args.churn <= 1:
        parser.error("--churn: a fraction from 0 to 1")
    try:
        sys.exit({"generate": generate, "wait": wait, "check": check, "report": report, "operations": operations}[args.command](args) or 0)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
        sys.exit("%s: %s: %s" % (args.command, type(error).__name__, error))


if __name__ == "__main__":
    main()
