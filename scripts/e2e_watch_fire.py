"""Fires events onto a real Salt master's bus with Salt's own Python
event API; run by e2e_watch.py with the Python of the Salt virtualenv
under test, so that it is that release's API.

Usage: python e2e_watch_fire.py MASTER_CONFIG

One JSON command a line on stdin, one JSON answer a line on stdout:

  {"events": [[tag, data], ...]}   fire each, in order
  {"jids": N}                      N new jids, as the master makes them
  {"scale": {"jid", "minions", "fun", "arg", "every_failed", "every_changed", "copies"}}
                                   a /new listing the minions, then one
                                   return each (every k-th failed or changed,
                                   the rest clean); copies > 1 fires each
                                   return that many times

Each answer says when the last event was fired ({"at": unix time}).
"""
import json
import sys
import time

import salt.config
import salt.utils.event
import salt.utils.jid


def state(sid, result, changes, comment):
    return {f"test_|-{sid}_|-{sid}_|-e2e": {
        "name": sid, "result": result, "changes": changes, "comment": comment,
        "__id__": sid, "__sls__": "e2e_w_scale", "__run_num__": 0,
        "start_time": "12:00:00.000000", "duration": 1.5}}


def scale_returns(spec):
    jid, fun, arg = spec["jid"], spec.get("fun", "state.apply"), spec.get("arg", ["e2e_w_scale"])
    for i, m in enumerate(spec["minions"]):
        if spec.get("every_failed") and i % spec["every_failed"] == 0:
            ret, rc = state("scale_failing", False, {}, f"failed on {m}"), 2
        elif spec.get("every_changed") and i % spec["every_changed"] == 1:
            ret, rc = state("scale_changing", True, {"new": m, "old": ""}, "changed"), 0
        else:
            ret, rc = state("scale_clean", True, {}, "already so"), 0
        data = {"cmd": "_return", "id": m, "jid": jid, "fun": fun, "fun_args": arg,
                "return": ret, "retcode": rc, "success": rc == 0, "user": "root"}
        yield f"salt/job/{jid}/ret/{m}", data


def main():
    opts = salt.config.master_config(sys.argv[1])
    bus = salt.utils.event.get_master_event(opts, opts["sock_dir"], listen=False)

    def fire(tag, data):
        # a master just started may not listen yet: try for a while
        nonlocal bus
        end = time.monotonic() + 60
        while not bus.fire_event(data, tag):
            if time.monotonic() > end:
                raise SystemExit(f"e2e_watch_fire: could not fire {tag}")
            time.sleep(0.5)
            bus.destroy()
            bus = salt.utils.event.get_master_event(opts, opts["sock_dir"], listen=False)

    for line in sys.stdin:
        cmd = json.loads(line)
        out = {}
        if "events" in cmd:
            for tag, data in cmd["events"]:
                fire(tag, data)
        if "jids" in cmd:
            out["jids"] = [salt.utils.jid.gen_jid(opts) for _ in range(cmd["jids"])]
        if "scale" in cmd:
            spec = cmd["scale"]
            fire(f"salt/job/{spec['jid']}/new", {
                "jid": spec["jid"], "tgt_type": "glob", "tgt": "sim-*", "user": "root",
                "fun": spec.get("fun", "state.apply"), "arg": spec.get("arg", ["e2e_w_scale"]),
                "minions": spec["minions"], "missing": []})
            out["new_at"] = time.time()
            n = 0
            for tag, data in scale_returns(spec):
                for _ in range(spec.get("copies", 1)):
                    fire(tag, data)
                    n += 1
            out["fired"] = n
        out["at"] = time.time()
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
