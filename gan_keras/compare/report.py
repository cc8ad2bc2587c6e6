"""The comparison as one Markdown document, built from the comparison's data.

Rendering is kept apart from the computation so the same data can be written with image links
relative to any folder (``comparison.md`` sits next to its PNGs; a report elsewhere, such as
``benchmarks/results/reproduction.md``, needs a prefix).
"""
from __future__ import annotations

from gan_keras.compare import dissertation as diss
from gan_keras.compare.tables import markdown_dissertation, markdown_fid, markdown_runs
from gan_keras.compare.verdicts import markdown_verdicts



def _iterations(run: dict) -> str:
    """Iterations trained, and of how many planned when the run stopped short."""
    planned, trained = run.get("epochs"), run.get("trained")
    if trained is None:
        return f"{planned:,}" if planned is not None else "?"
    if planned is not None and trained < planned:
        return f"{trained:,} of {planned:,}"
    return f"{trained:,}"

def _settings_text(settings: dict | None) -> str:
    if not settings:
        return "not evaluated"
    if settings.get("mixed"):
        return ("MIXED, so their FIDs are not comparable: " + "; ".join(
            f"{_settings_text({k: v for k, v in s.items() if k != 'runs'})} ({', '.join(s['runs'])})"
            for s in settings["mixed"]))
    n = settings.get("fid_sample_number")
    real = settings.get("real_images")
    return (f"backbone `{settings.get('backbone')}`, {settings.get('resize')} resize, "
            f"{n:,} generated" + (f" vs {real:,} real" if isinstance(real, int) else "") + " images"
            if isinstance(n, int) else f"backbone `{settings.get('backbone')}`")


def _image(link_prefix: str, name: str | None, alt: str) -> list[str]:
    return [f"![{alt}]({link_prefix}{name})", ""] if name else []


def render(data: dict, link_prefix: str = "") -> str:
    """The Markdown text of a comparison (``data`` as in comparison.json)."""
    lines = [f"# {data['title']}", ""]
    runs = data["runs"]
    lines += [f"{len(runs)} run(s) compared, on {', '.join(data['datasets'])}. FID: lower is better. "
              "Several seeds of one experiment are shown as mean ± std (sample std) with min–max and n; "
              "every seed's own values are listed under each dataset.", ""]
    lines += ["| run | model | dataset | seed | batch | iterations | checkpoints | evaluation |",
              "| --- | --- | --- | ---: | ---: | ---: | --- | --- |"]
    for r in runs:
        checkpoints = ", ".join(f"{c:,}" for c in r["checkpoints"]) or "none"
        lines.append(f"| {r['name']} | {r['model']} | {r['dataset']} | {r['seed']} | {r['batch_size']} | "
                     f"{_iterations(r)} | {checkpoints} | "
                     f"{_settings_text(r['evaluation'])} |")
    lines.append("")
    lines += [f"The dissertation's FIDs (Tables 4-1 to 4-6) were computed with the {diss.BACKBONE_TEXT} "
              f"(backbone `{diss.BACKBONE}`) from {diss.FID_SAMPLE_NUMBER:,} generated images; its real sample "
              "size and resize are not stated. Values computed otherwise are shown beside them with the "
              "difference named: they are not directly comparable.", ""]
    if data["warnings"]:
        lines += ["**Warnings**", ""] + [f"- {w}" for w in data["warnings"]] + [""]

    verdicts = [v for d in data["datasets"] for v in data["verdicts"].get(d, [])]
    if verdicts:
        lines += ["## The dissertation's verdicts and what these runs show", ""]
        lines += markdown_verdicts(verdicts) + [""]
        lines += ["\"best\"/\"worst\": the lowest/highest mean FID among the dissertation's models given, at "
                  "the dissertation's last iteration when every model has it, else the latest iteration "
                  "that all have. \"rises with training\": the mean FID at the last evaluated checkpoint is "
                  "above the first.", ""]

    for dataset in data["datasets"]:
        table = data["tables"][dataset]
        figures = data["figures"].get(dataset, {})
        exp = table["experiment"]
        head = f"## {dataset}"
        if exp:
            head += (f" (dissertation {exp['section']}, {exp['title']}: batch {exp['batch_size']}, "
                     f"{exp['iterations']:,} iterations; {exp['tables']})")
        lines += [head, "", f"Evaluation: {_settings_text(data['settings'].get(dataset))}.", ""]
        lines += ["### FID per model and checkpoint", ""]
        if table["iterations"]:
            lines += markdown_fid(table) + [""]
        else:
            lines += ["No run of this dataset is evaluated (not evaluated): run `GAN_evaluation.py` on it.", ""]
        if table["groups"]:
            lines += ["### Against the dissertation", ""] + markdown_dissertation(table) + [""]
        if table["iterations"]:
            lines += ["### Each run", ""] + markdown_runs(table) + [""]
        lines += ["### Curves", ""]
        for key, alt in (("fid", "FID against iterations"), ("losses", "losses"),
                         ("divergence", "divergence estimates")):
            fig = figures.get(key)
            lines += _image(link_prefix, fig and fig["file"], f"{dataset}: {alt}")
        if not figures.get("fid"):
            lines += ["No FID curve: no run of this dataset is evaluated.", ""]
        panels = [(r["name"], data["panels"].get(r["name"])) for r in runs if r["dataset"] == dataset]
        panels = [(name, p) for name, p in panels if p and p.get("file")]
        if panels:
            lines += ["### Checkpoint panels", "",
                      f"One row per checkpoint (iteration at the left), the same {data['seed_text']} for every "
                      "checkpoint of a run.", ""]
            for name, p in panels:
                lines += [f"**{name}**" + (f" (failed to load: {', '.join(str(f['iteration']) for f in p['failed'])})"
                                           if p["failed"] else ""), ""]
                lines += _image(link_prefix, p["file"], f"{name}: samples per checkpoint")
    return "\n".join(lines).rstrip() + "\n"
