"""The evaluation report for people: a text table and a four-panel figure, models side by side.

The held-out real images are drawn as one more column everywhere: they show what "as good as the
data" looks like at this sample count, so a number is read against that floor, not against zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _rows(report: dict) -> list[tuple[str, list[str]]]:
    cols = report["columns"]
    names = list(cols)

    def get(path: str, fmt: str = "{:.2f}") -> list[str]:
        out = []
        for n in names:
            v = cols[n]
            for key in path.split("/"):
                v = v.get(key) if isinstance(v, dict) else None
            out.append("—" if v is None else fmt.format(v))
        return out

    rows: list[tuple[str, list[str]]] = [("images", get("n", "{}"))]
    levels = [k for k in cols[names[0]]["swd"] if k != "mean"]
    rows += [(f"SWD ×1e3 {lv} px", get(f"swd/{lv}")) for lv in levels]
    rows.append(("SWD ×1e3 mean", get("swd/mean")))
    rows.append(("spectrum gap high half (dec)", get("spectrum/high", "{:.3f}")))
    rows.append(("spectrum gap all (dec)", get("spectrum/all", "{:.3f}")))
    rows.append(("spectrum signed high (dec)", get("spectrum/signed_high", "{:+.3f}")))
    for fam in report["data"]["families"]:
        rows.append((f"share {fam}", get(f"coverage/shares/{fam}", "{:.1%}")))
    thr = cols[names[0]]["coverage"]["empty_threshold"]
    rows.append((f"empty families (<{thr:.1%})", get("coverage/empty_families", "{}")))
    rows.append(("style accuracy (asked = seen)", get("coverage/style_accuracy", "{:.1%}")))
    rows.append(("classifier mean confidence", get("coverage/mean_confidence", "{:.2f}")))
    rows.append(("memorisation ratio pixels", get("memorisation/pixels/ratio", "{:.3f}")))
    rows.append(("memorisation ratio features", get("memorisation/features/ratio", "{:.3f}")))
    rows.append(("NN distance pixels (median)", get("memorisation/pixels/median_generated", "{:.4f}")))
    rows.append(("NN distance pixels, held-out", get("memorisation/pixels/median_held_out", "{:.4f}")))
    rows.append(("interp max step", get("smoothness/max_step", "{:.4f}")))
    rows.append(("interp mean step", get("smoothness/mean_step", "{:.4f}")))
    return rows


def format_table(report: dict) -> str:
    names = list(report["columns"])
    rows = _rows(report)
    w0 = max(len(r[0]) for r in rows)
    widths = [max(len(n), *(len(r[1][i]) for r in rows)) for i, n in enumerate(names)]
    lines = [
        f"data: {report['data']['folder']} ({report['data']['format']}, {report['data']['images']} images, "
        f"{len(report['data']['families'])} families); classifier held-out accuracy "
        f"{report['classifier']['held_out_accuracy']:.1%}",
        " " * w0 + "  " + "  ".join(n.rjust(w) for n, w in zip(names, widths)),
    ]
    lines += [k.ljust(w0) + "  " + "  ".join(v.rjust(w) for v, w in zip(vals, widths)) for k, vals in rows]
    med = report["settings"]["memorisation_spaces"]
    lines.append(f"memorisation spaces: pixels = {med['pixels']}; features = {med['features']}")
    return "\n".join(lines)


def plot_report(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = report["columns"]
    names = list(cols)
    colours = {n: ("0.45" if i == 0 else f"C{i - 1}") for i, n in enumerate(names)}
    models = names[1:]
    fig = plt.figure(figsize=(13, 9 + 2.2 * len(models)))
    grid = fig.add_gridspec(2 + len(models), 2, height_ratios=[4, 4] + [2] * len(models))
    ax = np.array([[fig.add_subplot(grid[r, c]) for c in range(2)] for r in range(2)])

    a = ax[0, 0]
    for n in names:
        levels = [k for k in cols[n]["swd"] if k != "mean"]
        a.plot([int(k) for k in levels], [cols[n]["swd"][k] for k in levels], "o-", color=colours[n], label=n)
    a.set_xscale("log", base=2)
    a.set_xlabel("pyramid level (px)")
    a.set_ylabel("SWD ×1e3 (lower is closer to the data)")
    a.set_title("Sliced Wasserstein distance per level")
    a.legend()

    a = ax[0, 1]
    ref = np.asarray(report["data"]["spectrum_curve"])
    freq = np.arange(len(ref)) / (2 * (len(ref) - 1))
    a.plot(freq[1:], ref[1:], color="k", lw=2, label="training data")
    for n in names:
        curve = np.asarray(cols[n]["spectrum_curve"])
        a.plot(freq[1:], curve[1:], color=colours[n], ls="--" if n == names[0] else "-", label=n)
    a.axvspan(0.25, 0.5, color="0.9", zorder=0)
    a.set_xlabel("frequency (cycles/pixel); shaded: the high half")
    a.set_ylabel("log10 power (grey)")
    a.set_title("Azimuthally averaged power spectrum")
    a.legend()

    a = ax[1, 0]
    fams = report["data"]["families"]
    x = np.arange(len(fams))
    width = 0.8 / len(names)
    for i, n in enumerate(names):
        shares = [cols[n]["coverage"]["shares"][f] for f in fams]
        a.bar(x + (i - (len(names) - 1) / 2) * width, shares, width, color=colours[n], label=n)
    a.axhline(1 / len(fams), color="k", lw=0.8, ls=":", label="uniform")
    a.axhline(cols[names[0]]["coverage"]["empty_threshold"], color="r", lw=0.8, ls=":", label="empty below")
    a.set_xticks(x, fams, rotation=30 if len(fams) > 6 else 0, ha="right" if len(fams) > 6 else "center")
    a.set_ylabel("share of images")
    a.set_title(f"Predicted family (classifier accuracy {report['classifier']['held_out_accuracy']:.1%})")
    a.legend(fontsize="small")

    a = ax[1, 1]
    held = None
    for n in names[1:]:
        mem = cols[n]["memorisation"]["pixels"]
        held = mem.get("distances_held_out", held)
        if "distances_generated" in mem:
            a.hist(
                mem["distances_generated"], bins=40, histtype="step", color=colours[n], density=True, label=n
            )
    if held is not None:
        a.hist(held, bins=40, color=colours[names[0]], alpha=0.4, density=True, label=names[0])
    a.set_xlabel("RMS distance to the nearest training image (64² pixels, 0..1)")
    a.set_ylabel("density")
    a.set_title("Memorisation: generated vs held-out real")
    a.legend()

    for r, n in enumerate(models):
        a = fig.add_subplot(grid[2 + r, :])
        pairs = cols[n].get("closest_pairs")
        if pairs is not None:  # [k, 2, 64·64·3] → generated on top, its nearest training image below
            k = len(pairs)
            tiles = pairs.reshape(k, 2, 64, 64, 3).transpose(1, 2, 0, 3, 4).reshape(128, k * 64, 3)
            a.imshow(np.clip(tiles, 0, 1))
        a.set_title(
            f"{n}: the {len(pairs) if pairs is not None else 0} samples nearest a training image "
            "(top) and that image (bottom)"
        )
        a.axis("off")

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
