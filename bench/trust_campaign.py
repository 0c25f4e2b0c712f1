"""``python bench/trust_campaign.py``: a fault campaign over the trust families.

Real convcli processes, each judged HELD, BROKE (wrong result or exit code, traceback,
partial output, leftover temporary, hang) or VAGUE (right exit code, but not one clear
Error line naming what and where). Writes bench/results/trust-campaign.md and .json.
"""

# ruff: noqa: B007, B023, SIM115  (each check is called at once, inside its loop; a script)

import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyvips
import scipy.signal as ss
import soundfile as sf

REPORT = os.path.join(os.path.dirname(__file__), "results", "trust-campaign.md")
R = random.Random(7)
RNG = np.random.default_rng(7)
DATA = "/work/shared/data"
CLI = [sys.executable, "-m", "convcli"]
results = []


def record(family, command, verdict, why=""):
    results.append({"family": family, "command": command, "verdict": verdict, "why": why})


def run(args, stdin=None, cwd=None, timeout=30, shell=False):
    try:
        if shell:
            return subprocess.run(
                args,
                shell=True,
                capture_output=True,
                timeout=timeout,
                cwd=cwd,
                executable="/bin/bash",
                input=stdin,
            )
        return subprocess.run(
            CLI + [str(a) for a in args], input=stdin, capture_output=True, timeout=timeout, cwd=cwd
        )
    except subprocess.TimeoutExpired:
        return None


def leftovers(folder):
    return [n for n in os.listdir(folder) if ".convcli-" in n]


def judge_error(family, cmd, p, folder, words=(), code=1, out=None):
    """An expected failure: exit ``code``, one Error line (naming ``words``), no output."""
    if p is None:
        return record(family, cmd, "BROKE", "hang")
    err = p.stderr.decode(errors="replace")
    if "Traceback" in err:
        return record(family, cmd, "BROKE", "traceback: " + err[-200:])
    if p.returncode != code:
        return record(family, cmd, "BROKE", f"exit {p.returncode}: {err[:200]}")
    if out and os.path.exists(out):
        return record(family, cmd, "BROKE", "an output was left")
    if folder and leftovers(folder):
        return record(family, cmd, "BROKE", f"temporaries {leftovers(folder)}")
    lines = [ln for ln in err.splitlines() if ln.startswith("Error")]
    if len(lines) != 1 or any(w not in err for w in words):
        return record(family, cmd, "VAGUE", err[:200])
    record(family, cmd, "HELD")


def judge_ok(family, cmd, p, check=lambda p: True, folder=None):
    if p is None:
        return record(family, cmd, "BROKE", "hang")
    err = p.stderr.decode(errors="replace")
    if "Traceback" in err or p.returncode != 0:
        return record(family, cmd, "BROKE", f"exit {p.returncode}: {err[:200]}")
    if folder and leftovers(folder):
        return record(family, cmd, "BROKE", f"temporaries {leftovers(folder)}")
    try:
        ok = check(p)
    except Exception as e:  # noqa: BLE001
        ok, err = False, repr(e)
    record(family, cmd, "HELD" if ok else "BROKE", "" if ok else f"check failed {err[:200]}")


def photo(path, rows=40, cols=50, bands=3, smooth=True, **tags):
    r, c = np.mgrid[:rows, :cols]
    a = np.dstack([(r * 200 // rows + c * 50 // cols + 10 * b) % 256 for b in range(bands)])
    if not smooth:
        a = RNG.integers(0, 256, (rows, cols, bands))
    im = pyvips.Image.new_from_array(a.astype(np.uint8)).copy(
        interpretation="srgb" if bands >= 3 else "b-w"
    )
    for k, v in tags.items():
        im.set_type(pyvips.GValue.gint_type, k, v)
    im.write_to_file(str(path))


def families(w):
    # 1. orientation
    for o in range(1, 9):
        for kernel in ("identity", "box:3", "sharpen"):
            for ext in ("jpg", "tiff"):
                src = f"{w}/o{o}.{ext}"
                photo(src, orientation=o)
                out = f"{w}/o{o}_{kernel[:3]}.jpg"
                p = run(["conv2d", src, "-k", kernel, "-o", out])
                up = pyvips.Image.new_from_file(src).autorot()
                judge_ok(
                    "photos: orientation",
                    f"conv2d {src} -k {kernel}",
                    p,
                    lambda p: (
                        lambda im: (
                            (im.width, im.height) == (up.width, up.height)
                            and im.get("orientation") == 1
                        )
                    )(pyvips.Image.new_from_file(out)),
                )
    # 2. edge padding: flat stays flat
    for i in range(30):
        value = R.randint(20, 235)
        flat = np.full((R.randint(8, 40), R.randint(8, 40), 3), value, np.uint8)
        src = f"{w}/flat{i}.png"
        pyvips.Image.new_from_array(flat).copy(interpretation="srgb").write_to_file(src)
        kernel = R.choice(["box:5", "gaussian:sigma=2", "sharpen", "box:3", "disk:radius=3"])
        p = run(["conv2d", src, "-k", kernel, "-o", f"{w}/flat{i}o.png"])
        judge_ok(
            "photos: edges",
            f"conv2d flat -k {kernel}",
            p,
            lambda p: np.all(pyvips.Image.new_from_file(f"{w}/flat{i}o.png").numpy() == value),
        )
    # 3. depth and alpha
    deep = f"{w}/deep.tif"
    pyvips.Image.new_from_array(RNG.integers(0, 65535, (20, 30, 3)).astype(np.uint16)).copy(
        interpretation="rgb16"
    ).write_to_file(deep)
    photo(f"{w}/rgba.png", bands=4)
    for ext in ("webp", "jpg", "gif", "bmp", "ppm"):
        out = f"{w}/d.{ext}"
        judge_error(
            "photos: depth",
            f"conv2d deep.tif -o d.{ext}",
            run(["conv2d", deep, "-k", "box:3", "-o", out]),
            w,
            ("--depth",),
            out=out,
        )
        judge_ok(
            "photos: depth",
            f"conv2d deep.tif -o d.{ext} --depth 8",
            run(["conv2d", deep, "-k", "box:3", "-o", out, "--depth", "8"]),
        )
        os.remove(out) if os.path.exists(out) else None
    for bg in ("white", "black", "#336699", "10,20,30"):
        out = f"{w}/f.jpg"
        judge_error(
            "photos: alpha",
            "conv2d rgba.png -o f.jpg",
            run(["conv2d", f"{w}/rgba.png", "-k", "box:3", "-o", out]),
            w,
            ("--flatten",),
            out=out,
        )
        judge_ok(
            "photos: alpha",
            f"--flatten --background {bg}",
            run(
                [
                    "conv2d",
                    f"{w}/rgba.png",
                    "-k",
                    "box:3",
                    "-o",
                    out,
                    "--flatten",
                    "--background",
                    bg,
                ]
            ),
        )
        os.remove(out)
    # 4. damaged inputs
    sources = {
        "jpg": f"{DATA}/images/chelsea.png",
        "png": f"{DATA}/images/camera.png",
        "wav": f"{DATA}/audio/speech.wav",
        "flac": f"{DATA}/audio/melody.flac",
        "tif": None,
    }
    photo(f"{w}/whole.jpg", rows=300, cols=400, smooth=False)
    photo(f"{w}/whole.tif", rows=300, cols=400, smooth=False)
    whole = {
        "jpg": f"{w}/whole.jpg",
        "png": sources["png"],
        "wav": sources["wav"],
        "flac": sources["flac"],
        "tif": f"{w}/whole.tif",
    }
    for ext, path in whole.items():
        data = open(path, "rb").read()
        for i in range(20):
            cut = R.choice([R.randint(8, 200), int(len(data) * R.uniform(0.05, 0.95))])
            bad = f"{w}/bad{i}.{ext}"
            blob = bytearray(data[:cut])
            if i % 3 == 0 and len(blob) > 100:  # or flipped bytes in the middle
                blob = bytearray(data)
                for _ in range(30):
                    blob[R.randint(100, len(blob) - 1)] = R.randint(0, 255)
            open(bad, "wb").write(blob)
            command = "conv1d" if ext in ("wav", "flac") else "conv2d"
            out = f"{w}/badout.{'wav' if command == 'conv1d' else 'png'}"
            if os.path.exists(out):
                os.remove(out)
            p = run([command, bad, "-k", "box:3", "-o", out])
            if (
                p is not None
                and p.returncode == 0
                and ext == "wav"
                and f"{bad}: the file ends early".encode() in p.stderr
            ):
                record(
                    "damaged inputs", f"{command} {bad} (cut at {cut}): warned as SoX does", "HELD"
                )
                os.remove(out)
                continue
            if p is not None and p.returncode == 0 and i % 3 == 0:
                record("damaged inputs", f"{command} {bad} (flipped bytes, decodable)", "HELD")
                os.remove(out)
                continue
            judge_error("damaged inputs", f"{command} {bad} (cut at {cut})", p, w, (bad,), out=out)
    # 5. NaN and inf
    for i in range(40):
        values = [str(R.randint(-9, 9)) for _ in range(R.randint(3, 12))]
        pos = R.randrange(len(values))
        values[pos] = R.choice(["nan", "inf", "-inf", "NaN", "Infinity"])
        p = run(["conv1d", "-", "-k", "1,1"], stdin=" ".join(values).encode())
        judge_error("NaN", f"echo {' '.join(values)} | conv1d -", p, None, (f":{1}:",))
    for i in range(10):
        a = RNG.standard_normal(20)
        a[R.randrange(20)] = R.choice([np.nan, np.inf])
        np.save(f"{w}/n{i}.npy", a)
        judge_error(
            "NaN",
            f"conv1d n{i}.npy",
            run(["conv1d", f"{w}/n{i}.npy", "-k", "1"]),
            w,
            (f"n{i}.npy",),
        )
        t = RNG.random((10, 12)).astype(np.float32)
        t[R.randrange(10), R.randrange(12)] = np.nan
        pyvips.Image.new_from_array(t).write_to_file(f"{w}/n{i}.tif")
        judge_error(
            "NaN",
            f"conv2d n{i}.tif",
            run(["conv2d", f"{w}/n{i}.tif", "-k", "box:3", "-o", f"{w}/no.tif"]),
            w,
            (f"n{i}.tif",),
            out=f"{w}/no.tif",
        )
    # 6. signals
    big = f"{w}/big.png"
    pyvips.Image.new_from_array(RNG.integers(0, 256, (2500, 3500, 3)).astype(np.uint8)).copy(
        interpretation="srgb"
    ).write_to_file(big, compression=1)
    for i in range(24):
        sig = R.choice([signal.SIGINT, signal.SIGTERM])
        out = f"{w}/sig.{R.choice(['png', 'jpg', 'tif'])}"
        open(out, "wb").write(b"old")
        delay = R.uniform(0.3, 2.0)
        proc = subprocess.Popen(
            CLI + ["conv2d", big, "-k", "gaussian:sigma=10", "-o", out],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(sig)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
        want = 130 if sig == signal.SIGINT else 143
        cmd = f"conv2d big.png -o {os.path.basename(out)}, signal {sig} at {delay:.2f} s"
        if proc.returncode == 0 and took < 0.05:
            record("signals", cmd, "HELD", "finished before the signal")
        elif proc.returncode != want or took > 1.0 or b"Traceback" in err:
            record("signals", cmd, "BROKE", f"exit {proc.returncode} after {took:.2f} s")
        elif open(out, "rb").read() != b"old" or leftovers(w):
            record("signals", cmd, "BROKE", "output replaced or temporary left")
        else:
            record("signals", cmd, "HELD")
        os.remove(out)
    # 7. pipes
    for i in range(15):
        src = R.choice([f"{DATA}/images/chelsea.png", f"{w}/whole.jpg", f"{w}/whole.tif"])
        ext = R.choice(["png", "jpg", "tiff"])
        p = run(
            f"{sys.executable} -m convcli conv2d - -k box:3 --to {ext} < {src} > {w}/pipe.{ext}",
            shell=True,
        )
        judge_ok(
            "pipes",
            f"conv2d - < {os.path.basename(src)} > pipe.{ext}",
            p,
            lambda p: pyvips.Image.new_from_file(f"{w}/pipe.{ext}").width > 0,
        )
    for i in range(5):
        p = run(
            f"cat {DATA}/audio/speech.wav | {sys.executable} -m convcli conv1d - -k "
            f"echo:delay=0.1,decay=0.5 -o {w}/p.wav",
            shell=True,
        )
        q = run(
            [
                "conv1d",
                f"{DATA}/audio/speech.wav",
                "-k",
                "echo:delay=0.1,decay=0.5",
                "-o",
                f"{w}/f.wav",
            ]
        )
        judge_ok(
            "pipes",
            "cat speech.wav | conv1d - (bytes as from the file)",
            p,
            lambda p: (
                q.returncode == 0
                and open(f"{w}/p.wav", "rb").read() == open(f"{w}/f.wav", "rb").read()
            ),
        )
    for command in (
        "kernels",
        "kernels show gaussian:sigma=2",
        "outsize --input 9 --kernel 3",
        f"conv2d {DATA}/images/camera.png -k box:3 --to png",
        "conv1d - -k 1,2 <<< '1 2 3'",
    ):
        for where in (">&-", "> /dev/full"):
            p = run(f"{sys.executable} -m convcli {command} {where}", shell=True)
            judge_error("pipes", f"{command} {where}", p, None, ("standard output",))
        p = run(
            f"{sys.executable} -m convcli {command} | head -c 1 > /dev/null; "
            "exit ${PIPESTATUS[0]}",
            shell=True,
        )
        judge_ok("pipes", f"{command} | head -c 1", p, lambda p: p.stderr == b"")
    # 8. integers
    for i in range(40):
        xs = [R.randint(2**61, 2**63 - 1) for _ in range(R.randint(1, 5))]
        k = [R.randint(1, 5) for _ in range(R.randint(1, 4))]
        p = run(["conv1d", "-", "-k", ",".join(map(str, k))], stdin=" ".join(map(str, xs)).encode())
        judge_ok(
            "integers",
            f"conv1d {xs} -k {k}",
            p,
            lambda p: (
                all(float(v) > 0 for v in p.stdout.split())
                and np.allclose(
                    [float(v) for v in p.stdout.split()],
                    np.convolve(np.array(xs, float), k),
                    rtol=1e-12,
                )
            ),
        )
    for i in range(30):
        xs = [R.randint(-1000, 1000) for _ in range(R.randint(1, 30))]
        k = [R.randint(-9, 9) for _ in range(R.randint(1, 8))]
        mode = R.choice(["full", "same", "valid"])
        if mode == "valid" and len(k) > len(xs):
            continue
        p = run(
            ["conv1d", "-", "-k", ",".join(map(str, k)), "--mode", mode],
            stdin=" ".join(map(str, xs)).encode(),
        )
        judge_ok(
            "integers",
            f"conv1d {mode}",
            p,
            lambda p: [int(v) for v in p.stdout.split()] == ss.convolve(xs, k, mode).tolist(),
        )
    # 9. CSV typos
    for i in range(50):
        rows = [[str(R.randint(0, 99)) for _ in range(3)] for _ in range(R.randint(2, 8))]
        r, c = R.randrange(len(rows)), R.randrange(3)
        rows[r][c] = R.choice(["x", "1.2.3", "--4", "5e", "abc", "7x"])
        header = R.random() < 0.5
        text = ("a,b,c\n" if header else "") + "\n".join(",".join(row) for row in rows) + "\n"
        open(f"{w}/t.csv", "w").write(text)
        line = r + 1 + header
        col = sum(len(x) + 1 for x in rows[r][:c]) + 1
        p = run(["conv1d", f"{w}/t.csv", "-k", "1"])
        judge_error("CSV", f"typo at {line}:{col}", p, None, (f":{line}:{col}:",))
    # 10. wrong kernels
    sf.write(f"{w}/mono.wav", RNG.standard_normal(2000) * 0.1, 8000)
    sf.write(f"{w}/st.wav", RNG.standard_normal((50, 2)) * 0.1, 8000)
    sf.write(f"{w}/tri.wav", RNG.standard_normal((50, 3)) * 0.1, 8000)
    photo(f"{w}/k.png", rows=5, cols=5)
    for command, src, kernel, out in [
        ("conv1d", "mono.wav", "k.png", "o.wav"),
        ("conv1d", "mono.wav", "st.wav", "o.wav"),
        ("conv1d", "st.wav", "tri.wav", "o.wav"),
        ("conv2d", "k.png", "mono.wav", "o.png"),
        ("conv1d", "mono.wav", "sobel-x", "o.wav"),
        ("conv1d", "mono.wav", "emboss", "o.wav"),
        ("conv1d", "k.png", "box:3", "o.wav"),
        ("conv2d", "mono.wav", "box:3", "o.png"),
    ]:
        kern = f"{w}/{kernel}" if os.path.exists(f"{w}/{kernel}") else kernel
        judge_error(
            "wrong kernels",
            f"{command} {src} -k {kernel}",
            run([command, f"{w}/{src}", "-k", kern, "-o", f"{w}/{out}"]),
            w,
            out=f"{w}/{out}",
        )
    # 11. files
    open(f"{w}/x.txt", "w").write("1 2 3\n")
    for i in range(10):
        os.link(f"{w}/x.txt", f"{w}/h{i}.txt")
        os.symlink(f"{w}/x.txt", f"{w}/s{i}.txt")
        for target in (f"{w}/h{i}.txt", f"{w}/s{i}.txt", f"{w}/x.txt", f"{w}/./x.txt"):
            judge_error(
                "files: inputs",
                f"conv1d x.txt -o {os.path.basename(target)}",
                run(["conv1d", f"{w}/x.txt", "-k", "1,1", "-o", target]),
                w,
                ("--in-place",),
            )
        assert open(f"{w}/x.txt").read() == "1 2 3\n"
        os.remove(f"{w}/h{i}.txt")
        os.remove(f"{w}/s{i}.txt")
    os.makedirs(f"{w}/far", exist_ok=True)
    for i in range(10):
        link = f"{w}/l{i}.txt"
        os.symlink(f"{w}/far/t{i}.txt", link)
        judge_ok(
            "files: links",
            f"-o dangling link l{i}.txt",
            run(["conv1d", f"{w}/x.txt", "-k", "1,1", "-o", link]),
            lambda p: os.path.islink(link) and open(f"{w}/far/t{i}.txt").read() == "1 3 5 3\n",
        )
        ro = f"{w}/ro{i}.txt"
        open(ro, "w").write("keep")
        os.chmod(ro, 0o444)
        judge_error(
            "files: read-only",
            f"-o ro{i}.txt",
            run(["conv1d", f"{w}/x.txt", "-k", "1", "-o", ro]),
            w,
            ("read-only",),
        )
        name = f"{w}/" + "n" * R.randint(200, 250) + ".txt"
        judge_ok(
            "files: long names",
            f"-o {len(os.path.basename(name))}-character name",
            run(["conv1d", f"{w}/x.txt", "-k", "1", "-o", name]),
            lambda p: open(name).read() == "1 2 3\n",
            w,
        )
        os.remove(name)
    # 12. -r mixed
    mixed = f"{w}/mixed"
    os.makedirs(mixed, exist_ok=True)
    photo(f"{mixed}/a.png")
    shutil.copy(f"{w}/mono.wav", f"{mixed}/b.wav")
    open(f"{mixed}/c.txt", "w").write("1 2\n")
    open(f"{mixed}/d.md", "w").write("# note\n")
    for command, want in (
        ("conv2d", ["a.png"]),
        ("conv1d", ["b.wav", "c.txt"]),
        ("pool", ["a.png"]),
    ):
        out = f"{w}/r_{command}"
        size = ["--size", "2"] if command == "pool" else ["-k", "box:3"]
        p = run([command, "-r", mixed, *size, "-o", out + "/"])
        judge_ok(
            "files: -r",
            f"{command} -r mixed",
            p,
            lambda p: sorted(os.listdir(out)) == want and b"skipped" in p.stderr,
        )
    # 13. bad option values
    bad = (
        [("conv1d", "--stride", v) for v in ("0", "-1", "x", "1.5")]
        + [("conv1d", "--mode", v) for v in ("half", "", "FULL")]
        + [("conv1d", "--pad", v) for v in ("-1", "a", "1,2,3")]
        + [("conv2d", "--pad", v) for v in ("1,2,3", "-2")]
        + [("conv1d", "--dilation", v) for v in ("0", "z")]
        + [("conv1d", "--pad-value", v) for v in ("nan", "inf", "q")]
        + [("conv1d", "--method", v) for v in ("slow", "FFT")]
        + [("conv2d", "--quality", v) for v in ("0", "101", "x")]
        + [("conv1d", "--precision", v) for v in ("0", "40")]
    )
    for command, option, value in bad * 3:
        p = run([command, "-", "-k", "1,1", option, value], stdin=b"1 2 3 4\n")
        judge_error("bad options", f"{command} {option} {value!r}", p, None, code=2)
    for command in (
        ["conv1d", "-", "-k", "1", "--pad", "1", "--mode", "same"],
        ["pool", "-", "--size", "2", "--pad", "2"],
        ["train-mnist", "--lr", "nan"],
        ["train-mnist", "--epochs", "0"],
        ["conv2d", "-", "-k", "1", "--background", "red"],
    ):
        judge_error("bad options", " ".join(command), run(command, stdin=b"1 2 3\n"), None, code=2)
    # 14. outsize
    for i in range(50):
        n, k = R.randint(5, 200), R.randint(1, 7)
        s, pad = R.randint(1, 3), R.randint(0, k // 2)
        if (n + 2 * pad - k) < 0:
            continue
        p = run(
            [
                "outsize",
                "--input",
                f"{n}x{n}x3",
                "--kernel",
                k,
                "--stride",
                s,
                "--pad",
                pad,
                "--filters",
                R.randint(1, 8),
            ]
        )
        want = (n + 2 * pad - k) // s + 1
        judge_ok(
            "scripts: outsize",
            f"outsize {n} k{k} s{s} p{pad}",
            p,
            lambda p: (
                p.stdout.decode().count("\n") == 1
                and p.stdout.decode().startswith(f"{want}x{want}x")
            ),
        )
    # 15. -q/-v anywhere
    for args in (
        ["-q", "conv1d", "-", "-k", "1"],
        ["conv1d", "-q", "-", "-k", "1"],
        ["-v", "conv1d", "-", "-k", "1"],
        ["conv1d", "-", "-k", "1", "-v"],
    ) * 5:
        judge_ok(
            "scripts: -q/-v",
            " ".join(args),
            run(args, stdin=b"1 2\n"),
            lambda p: p.stdout == b"1 2\n",
        )
    # 16. schedulers
    for address in ("bogus", "tcp://127.0.0.1:1", "tcp://nohost.invalid:8786", "1.2.3:x"):
        start = time.monotonic()
        p = run(
            [
                "conv2d",
                f"{DATA}/images/camera.png",
                "-k",
                "box:3",
                "-o",
                f"{w}/cl.png",
                "--scheduler",
                address,
            ]
        )
        if time.monotonic() - start > 10:
            record("clusters", f"--scheduler {address}", "BROKE", "over 10 s")
        else:
            judge_error("clusters", f"--scheduler {address}", p, w, out=f"{w}/cl.png")
    # 17. garbage inputs
    for i in range(160):
        blob = bytes(R.randint(0, 255) for _ in range(R.randint(1, 300)))
        ext = R.choice(["txt", "json", "npy", "wav", "png", "jpg", "csv", "flac", "tif", ""])
        path = f"{w}/g{i}.{ext}" if ext else f"{w}/g{i}"
        open(path, "wb").write(blob)
        command = "conv2d" if ext in ("png", "jpg", "tif") else "conv1d"
        p = run([command, path, "-k", "1"])
        if p is not None and p.returncode == 0:
            record("garbage", f"{command} {path}", "HELD", "read as numbers")
        else:
            judge_error("garbage", f"{command} {os.path.basename(path)}", p, w)
    # 18. correctness against SciPy
    for i in range(160):
        n, k = R.randint(1, 40), R.randint(1, 9)
        x = np.round(RNG.standard_normal(n), 3)
        kern = np.round(RNG.standard_normal(k), 3)
        mode = R.choice(["full", "same", "valid"])
        if mode == "valid" and k > n:
            continue
        p = run(
            ["conv1d", "-", "-k", ",".join(map(str, kern)), "--mode", mode, "--precision", "17"],
            stdin=" ".join(map(str, x)).encode(),
        )
        judge_ok(
            "correctness",
            f"conv1d n={n} k={k} {mode}",
            p,
            lambda p: np.allclose(
                [float(v) for v in p.stdout.split()], ss.convolve(x, kern, mode), atol=1e-9
            ),
        )


def more_families():
    """2-D convolution and pad against SciPy and NumPy."""
    for i in range(60):
        r, k = R.randint(1, 9), R.randint(1, 4)
        x = np.array([[R.randint(-9, 9) for _ in range(r + 1)] for _ in range(r)])
        w = np.array([[R.randint(-3, 3) for _ in range(k)] for _ in range(k)])
        mode = R.choice(["full", "same", "valid"])
        if mode == "valid" and (k > r or k > r + 1):
            continue
        text = "\n".join(" ".join(map(str, row)) for row in x).encode()
        kern = "; ".join(" ".join(map(str, row)) for row in w)
        p = run(["conv2d", "-", "-k", kern, "--mode", mode], stdin=text)
        want = ss.convolve2d(x, w, mode)
        judge_ok(
            "correctness 2-D",
            f"conv2d {x.shape} k{k} {mode}",
            p,
            lambda p: np.array_equal(
                np.array(
                    [[int(v) for v in line.split()] for line in p.stdout.decode().splitlines()]
                ).reshape(want.shape),
                want,
            ),
        )
    for i in range(45):
        x = [R.randint(0, 9) for _ in range(R.randint(1, 8))]
        size = R.randint(0, 4)
        mode = R.choice(["zeros", "replicate", "symmetric", "reflect", "circular"])
        np_mode = {"zeros": "constant", "replicate": "edge", "circular": "wrap"}.get(mode, mode)
        if mode == "reflect" and size >= len(x):
            continue
        p = run(["pad", "-", "--size", size, "--mode", mode], stdin=" ".join(map(str, x)).encode())
        want = np.pad(np.array(x), size, mode=np_mode).tolist()
        judge_ok(
            "correctness pad",
            f"pad {x} {size} {mode}",
            p,
            lambda p: [int(v) for v in p.stdout.split()] == want,
        )


def main():
    w = tempfile.mkdtemp(prefix="camp")
    start = time.time()
    families(w)
    more_families()
    counts = collections.defaultdict(collections.Counter)
    for r in results:
        counts[r["family"]][r["verdict"]] += 1
    total = collections.Counter(r["verdict"] for r in results)
    with open(REPORT, "w") as f:
        f.write(f"{len(results)} runs in {time.time() - start:.0f} s: {dict(total)}\n\n")
        f.write("| family | held | broke | vague |\n| --- | --- | --- | --- |\n")
        for fam, c in counts.items():
            f.write(f"| {fam} | {c['HELD']} | {c['BROKE']} | {c['VAGUE']} |\n")
        f.write("\n")
        for r in results:
            if r["verdict"] != "HELD":
                f.write(f"- {r['verdict']} [{r['family']}] `{r['command']}`: {r['why']}\n")
    json.dump(results, open(REPORT.replace(".md", ".json"), "w"), indent=1)
    print(open(REPORT).read())


if __name__ == "__main__":
    main()
