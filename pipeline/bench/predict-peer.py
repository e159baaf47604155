"""scikit-learn's side of `npm run bench:predict`: batch scoring with pandas and scikit-learn.

    /usr/bin/python3 predict-peer.py train TRAIN.csv MODEL.pkl
    /usr/bin/python3 predict-peer.py score MODEL.pkl ROWS.csv OUT.csv N_JOBS

`train` fits RandomForestClassifier with pinml's random-forest defaults (100 trees, max_features
sqrt, bootstrap, min_samples_split 2, min_samples_leaf 1, max_depth 64) on TRAIN (last column the
label) with n_jobs=2 and pickles it. `score` is what a pandas batch job does, timed from the
first line of this file (so Python's imports are in it): import pandas and scikit-learn, unpickle
the model, `read_csv` the rows, `predict_proba` with `n_jobs`, and `to_csv` the predicted class,
every class's probability and the version, as `pinml predict --proba` writes them. Prints one
JSON line of seconds per step.
"""
import time

started = time.perf_counter()
import json  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402

imported = time.perf_counter()

if sys.argv[1] == "train":
    train, out = sys.argv[2], sys.argv[3]
    data = pd.read_csv(train)
    X, y = data.iloc[:, :-1].to_numpy(), data.iloc[:, -1].to_numpy()
    model = RandomForestClassifier(
        n_estimators=100,
        max_features="sqrt",
        bootstrap=True,
        min_samples_split=2,
        min_samples_leaf=1,
        max_depth=64,
        random_state=42,
        n_jobs=2,
    ).fit(X, y)
    with open(out, "wb") as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({"fit_s": time.perf_counter() - imported}))
    sys.exit(0)

model_file, rows_file, out_file, n_jobs = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
with open(model_file, "rb") as f:
    model = pickle.load(f)
model.n_jobs = n_jobs
loaded = time.perf_counter()
rows = pd.read_csv(rows_file)
read = time.perf_counter()
proba = model.predict_proba(rows.to_numpy())
predicted = time.perf_counter()
out = pd.DataFrame(proba, columns=[f"probability_{c}" for c in model.classes_])
out.insert(0, "class", model.classes_[np.argmax(proba, axis=1)])
out["version"] = "synth@1"
out.to_csv(out_file, index=False)
written = time.perf_counter()
print(
    json.dumps(
        {
            "rows": len(rows),
            "import_s": imported - started,
            "load_s": loaded - imported,
            "read_s": read - loaded,
            "predict_s": predicted - read,
            "write_s": written - predicted,
            "total_s": written - started,
        }
    )
)
