"""The Python peer of the drift benchmark: Evidently's default drift tests with pandas + scipy.

    apt-get install python3-pandas python3-scipy     # pandas 1.5, scipy 1.10 on Debian 12
    /usr/bin/python3 pipeline/bench/drift-peer.py --reference REF.csv --current CUR.csv \\
        [--features f0,f1,...] [--label label]
    /usr/bin/python3 pipeline/bench/drift-peer.py --reference REF.csv \\
        --store predictions.db --model synth --version 1 [--features ...]

Both CSVs have a header row. Without --features every column but --label (default "label")
is a feature. Per feature, with the thresholds of pipeline/drift/options.ts (each a flag):

- a numeric column with more than --numerical-min-unique (5) distinct reference values is
  numerical, any other column categorical (its categories: the values of both files);
- reference of at most --max-rows-for-tests (1000) rows: numerical -> ks_2samp, drift when
  p < --p-value (0.05); categorical -> chisquare of the current counts against the reference
  shares (a Z-test of two proportions when there are at most two categories), same threshold;
- a bigger reference: numerical -> wasserstein_distance / max(np.std(reference), 0.001),
  categorical -> jensenshannon of the category shares; drift when above --distance (0.1);
- numerical features also get PSI over the reference's deciles (np.quantile, numpy's linear),
  bins np.searchsorted(edges[1:-1], x, side="right"), an empty bin's share --psi-epsilon (1e-4).

Missing values are dropped per feature. Prints one JSON line: the per-feature results, the
dataset verdict (at least half the tested features drifted), import_s (importing pandas and
scipy, measured here), load_s (reading both CSVs), tests_s, total_s (from before the imports
to the end; the interpreter's own start-up is not in it) and peak_rss_mb (ru_maxrss). JSON
has no inf or nan: such numbers (chisquare's statistic for a category the reference lacks) are
written as the strings "Infinity", "-Infinity" and "NaN".
"""

import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.spatial import distance  # noqa: E402

IMPORTED = time.perf_counter()


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--reference", required=True, help="the reference CSV")
    ap.add_argument("--current", help="the current CSV")
    ap.add_argument("--store", help="the current rows from a pinml prediction log (SQLite) instead")
    ap.add_argument("--model", help="with --store: the model")
    ap.add_argument("--version", type=int, help="with --store: the version")
    ap.add_argument("--features", help="comma-separated feature columns (default: all but --label)")
    ap.add_argument("--label", default="label", help="the column left out without --features")
    ap.add_argument("--p-value", type=float, default=0.05)
    ap.add_argument("--distance", type=float, default=0.1)
    ap.add_argument("--max-rows-for-tests", type=int, default=1000)
    ap.add_argument("--numerical-min-unique", type=int, default=5)
    ap.add_argument("--psi-bins", type=int, default=10)
    ap.add_argument("--psi-epsilon", type=float, default=1e-4)
    return ap.parse_args(argv)


def psi(ref, cur, bins, eps):
    edges = np.quantile(ref, np.arange(bins + 1) / bins)
    shares = []
    for x in (ref, cur):
        counts = np.bincount(np.searchsorted(edges[1:-1], x, side="right"), minlength=bins)
        shares.append(np.where(counts == 0, eps, counts / len(x)))
    r, c = shares
    return float(np.sum((c - r) * np.log(c / r)))


def z_test(ref, cur, categories):
    """Evidently's proportions_diff_z_stat_ind / _z_stat_test, as 2 * norm.sf(|z|)."""
    if len(categories) == 1:
        return 0.0, 1.0
    key = categories[0]
    n1, n2 = len(ref), len(cur)
    p1, p2 = float((ref != key).sum()) / n1, float((cur != key).sum()) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * stats.norm.sf(abs(z)))


def category_counts(ref, cur):
    categories = sorted(set(ref.unique()) | set(cur.unique()))
    ref_counts = ref.value_counts().reindex(categories, fill_value=0).to_numpy(dtype=float)
    cur_counts = cur.value_counts().reindex(categories, fill_value=0).to_numpy(dtype=float)
    return categories, ref_counts, cur_counts


def test_feature(name, ref, cur, a):
    ref, cur = ref.dropna(), cur.dropna()
    result = {"name": name, "referenceRows": int(len(ref)), "currentRows": int(len(cur))}
    if len(ref) == 0 or len(cur) == 0:
        return {**result, "kind": None, "test": None, "score": None, "drifted": None,
                "psi": None, "note": "no values on one side"}
    numerical = (pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_bool_dtype(ref)
                 and ref.nunique() > a.numerical_min_unique)
    small = len(ref) <= a.max_rows_for_tests
    statistic, psi_value = None, None
    if numerical:
        r, c = ref.to_numpy(dtype=float), cur.to_numpy(dtype=float)
        if small:
            test, ks = "ks", stats.ks_2samp(r, c)
            statistic, score = float(ks.statistic), float(ks.pvalue)
        else:
            test = "wasserstein"
            score = float(stats.wasserstein_distance(r, c) / max(np.std(r), 0.001))
        psi_value = psi(r, c, a.psi_bins, a.psi_epsilon)
    else:
        categories, ref_counts, cur_counts = category_counts(ref, cur)
        if small and len(categories) <= 2:
            test = "z"
            statistic, score = z_test(ref, cur, categories)
        elif small:
            test = "chisquare"
            with np.errstate(divide="ignore", invalid="ignore"):
                chi = stats.chisquare(cur_counts, ref_counts / ref_counts.sum() * cur_counts.sum())
            statistic, score = float(chi.statistic), float(chi.pvalue)
        else:
            test = "jensenshannon"
            score = float(distance.jensenshannon(ref_counts / len(ref), cur_counts / len(cur)))
    p_value = test in ("ks", "chisquare", "z")
    threshold = a.p_value if p_value else a.distance
    drifted = bool(score < threshold) if p_value else bool(score > threshold)
    return {**result, "kind": "numerical" if numerical else "categorical", "test": test,
            "scoreKind": "p-value" if p_value else "distance", "score": score,
            "statistic": statistic, "threshold": threshold, "drifted": drifted, "psi": psi_value}


def json_safe(x):
    """JSON has no inf or nan: written as the strings "Infinity", "-Infinity", "NaN"."""
    if isinstance(x, float) and not np.isfinite(x):
        return "NaN" if np.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, list):
        return [json_safe(v) for v in x]
    return x


def read_store(file, model, version):
    """The version's logged inputs as a DataFrame: pinml's `predictions` rows (inputs as JSON
    arrays in the signature's order) read with pandas.read_sql, parsed with json.loads."""
    import sqlite3
    with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as con:
        features = json.loads(con.execute(
            "SELECT features FROM signatures WHERE model = ? AND version = ?",
            (model, version)).fetchone()[0])
        frame = pd.read_sql(
            "SELECT inputs FROM predictions WHERE model = ? AND version = ? ORDER BY seq",
            con, params=(model, version))
    values = np.array([json.loads(t) for t in frame["inputs"]], dtype=np.float64)
    return pd.DataFrame(values, columns=features)


def main(argv):
    a = parse_args(argv)
    t0 = time.perf_counter()
    reference = pd.read_csv(a.reference)
    if a.store:
        current = read_store(a.store, a.model, a.version)
    else:
        current = pd.read_csv(a.current)
    loaded = time.perf_counter()
    if a.features:
        features = [f.strip() for f in a.features.split(",") if f.strip()]
    else:
        features = [c for c in reference.columns if c != a.label]
    missing = [f for f in features if f not in reference.columns or f not in current.columns]
    if missing:
        sys.exit(f"drift-peer: no column {', '.join(missing)} in both {a.reference} and "
                 f"{a.current}: name features that both files have (--features)")
    results = [test_feature(f, reference[f], current[f], a) for f in features]
    tested = [r for r in results if r["drifted"] is not None]
    drifted = sum(1 for r in tested if r["drifted"])
    done = time.perf_counter()
    print(json.dumps(json_safe({
        "peer": "scipy",
        "versions": {"python": sys.version.split()[0], "pandas": pd.__version__,
                     "scipy": scipy.__version__, "numpy": np.__version__},
        "reference": a.reference, "current": a.store or a.current,
        "referenceRows": int(len(reference)), "currentRows": int(len(current)),
        "features": results, "driftedFeatures": drifted, "testedFeatures": len(tested),
        "datasetDrift": bool(tested) and drifted >= 0.5 * len(tested),
        "import_s": round(IMPORTED - START, 4), "load_s": round(loaded - t0, 4),
        "tests_s": round(done - loaded, 4), "total_s": round(time.perf_counter() - START, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }), sort_keys=True, allow_nan=False))


if __name__ == "__main__":
    main(sys.argv[1:])
