"""Write data/cancer.csv from the dataset that ships inside scikit-learn (no download).

The `site` column is synthetic and deterministic: it stands for the clinic a
biopsy came from, so slice metrics and fairness gates have a group to judge.
"""

from pathlib import Path

from sklearn.datasets import load_breast_cancer

SITES = ("north", "south", "west")


def main() -> None:
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.insert(0, "site", [SITES[(i * 7) % len(SITES)] for i in range(len(frame))])
    out = Path("data/cancer.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False, float_format="%.6g")
    print(f"wrote {out} ({len(frame)} rows)")


if __name__ == "__main__":
    main()
