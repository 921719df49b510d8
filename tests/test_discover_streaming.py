"""liekit.discover on streamed data (memory maps, iterators, DataLoaders, Dask) and the CLI."""

import warnings

import numpy as np
import pytest
import torch

import liekit as lk
from liekit.cli_discover import main, parse_group
from liekit.discover import symmetries_of_function, symmetries_of_point_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    path = tmp_path_factory.mktemp("disc") / "sphere.npy"
    np.save(path, X)
    return X, path


def _same(a, b):
    assert a.dim == b.dim
    assert a.angle_to(b.generators) <= 1e-8
    assert a.samples == b.samples


def test_streamed_forms_agree(cloud):
    X, path = cloud
    ref = symmetries_of_point_cloud(X, lk.GL(3))
    assert ref.dim == 3 and ref.angle_to(lk.SO(3)) <= 1e-8
    _same(symmetries_of_point_cloud(np.load(path, mmap_mode="r"), lk.GL(3), batch_size=3001), ref)
    _same(symmetries_of_point_cloud((X[i:i + 4000] for i in range(0, len(X), 4000)), lk.GL(3)), ref)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(X)), batch_size=5000)
    _same(symmetries_of_point_cloud(loader, lk.GL(3)), ref)
    F = lambda z: torch.exp(-(z * z).sum(1))  # noqa: E731
    fref = symmetries_of_function(F, lk.GL(3), X[:3000])
    fstream = symmetries_of_function(F, lk.GL(3), iter([X[:1000], X[1000:3000]]))
    _same(fstream, fref)
    # equal up to the round-off floor of a Gram matrix, sqrt(eps)·σ₁
    assert torch.allclose(fref.singular_values, fstream.singular_values, rtol=1e-10, atol=1e-7)


def test_dask_map_reduce(cloud):
    da = pytest.importorskip("dask.array")
    import dask

    X, _ = cloud
    dX = da.from_array(X, chunks=(3000, 3))
    with dask.config.set(scheduler="threads"):
        res = symmetries_of_point_cloud(dX, lk.GL(3))
        fres = symmetries_of_function(lambda z: (z * z).sum(1), lk.GL(3), dX[:5000])
    assert res.dim == 3 and res.angle_to(lk.SO(3)) <= 1e-8 and res.samples == len(X)
    assert fres.dim == 3 and fres.angle_to(lk.SO(3)) <= 1e-8 and fres.samples == 5000
    bad = X[:4000].copy()
    bad[10] = np.nan
    with dask.config.set(scheduler="synchronous"):
        with pytest.raises(ValueError, match="NaN"):
            symmetries_of_point_cloud(da.from_array(bad, chunks=(1000, 3)), lk.GL(3))
        with pytest.raises(ValueError, match="3 columns"):
            symmetries_of_point_cloud(da.from_array(X[:, :2], chunks=(1000, 2)), lk.GL(3))


def test_parse_group_is_safe():
    assert parse_group("GL(3)").dim == 9
    assert parse_group("SO(1,2)").dim == 3
    assert parse_group("SO(2)*Scaling(1)").n == 3
    assert parse_group("Lorentz()").dim == 6
    for bad in ["__import__('os').system('true')", "GL(n)", "GL(3.0)", "GL(3", "open('x')", "GL(k=3)", "GL"]:
        with pytest.raises(ValueError):
            parse_group(bad)


def test_cli_discover_npy_and_csv(cloud, tmp_path, capsys):
    X, path = cloud
    assert main([str(path), "--candidate", "GL(3)", "--out", str(tmp_path / "figs")]) == 0
    out = capsys.readouterr().out
    assert "dimension: 3" in out and "gap" in out and "spectrum:" in out
    assert (tmp_path / "figs" / "spectrum.png").exists() and (tmp_path / "figs" / "generators.png").exists()
    csv = tmp_path / "h.csv"
    rng = np.random.default_rng(1)
    u, th = 1.2 * rng.random(400), 6.3 * rng.random(400)
    np.savetxt(csv, np.c_[np.cosh(u), np.sinh(u) * np.cos(th), np.sinh(u) * np.sin(th)], delimiter=",",
               header="t,x,y")
    assert main([str(csv), "--candidate", "SO(1,2)"]) == 0
    assert "dimension: 3" in capsys.readouterr().out
    assert main([str(csv), "--candidate", "GL(4)"]) == 2
    assert "wrong size" in capsys.readouterr().err
    assert main([str(csv), "--candidate", "exec('1')"]) == 2
    assert "unknown group" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.npy")]) == 2


def test_dask_unknown_chunks_and_nan_rows_anywhere(cloud):
    """A boolean filter leaves row chunk sizes unknown; NaN rows at the start, in the middle and at the end of
    chunks are dropped with nan_policy='omit', and one warning gives the true count."""
    da = pytest.importorskip("dask.array")
    import dask

    X, _ = cloud
    X = X[:6000].copy()
    nan_rows = [0, 1, 2, 3, 4, 999, 1000, 2500, 5999]
    X[nan_rows] = np.nan
    dX = da.from_array(X, chunks=(1000, 3))
    keep = da.from_array(np.arange(6000) % 7 != 3, chunks=1000)
    dF = dX[keep]  # unknown chunk sizes
    assert np.isnan(dF.chunks[0][0])
    expected_dropped = sum(1 for i in nan_rows if i % 7 != 3)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = symmetries_of_point_cloud(dF, lk.GL(3), nan_policy="omit")
        fres = symmetries_of_function(lambda z: (z * z).sum(1), lk.GL(3), dF, nan_policy="omit")
    dropped = [str(w.message) for w in seen if "dropped" in str(w.message)]
    assert dropped == [f"dropped {expected_dropped} row(s) of X holding NaN or inf",
                       f"dropped {expected_dropped} row(s) of samples holding NaN or inf"], dropped
    n = int((np.arange(6000) % 7 != 3).sum()) - expected_dropped
    assert res.dim == 3 and res.samples == n and res.angle_to(lk.SO(3)) <= 1e-8
    assert fres.dim == 3 and fres.samples == n
    ref = symmetries_of_point_cloud(X[(np.arange(6000) % 7 != 3) & np.isfinite(X).all(1)], lk.GL(3))
    assert torch.allclose(res.singular_values, ref.singular_values, rtol=1e-8, atol=1e-7)  # Gram round-off floor


def test_dask_column_chunks_and_all_nan_first_block(cloud):
    da = pytest.importorskip("dask.array")
    import dask

    X, _ = cloud
    X = X[:3000].copy()
    X[:1000] = np.nan  # the whole first block
    with dask.config.set(scheduler="synchronous"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = symmetries_of_function(lambda z: (z * z).sum(1), lk.GL(3), da.from_array(X, chunks=(1000, 2)),
                                     nan_policy="omit")
    assert res.dim == 3 and res.samples == 2000


def test_dask_distributed_local_cluster_with_worker_processes(cloud):
    """The streamed reduction on a real dask.distributed LocalCluster (2 worker processes)."""
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    X, _ = cloud
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                           worker_dashboard_address=None, silence_logs=50)
    except Exception as exc:  # sandboxes without sockets / process spawning
        pytest.skip(f"dask.distributed cannot start a LocalCluster here: {exc}")
    with cluster, distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        bad = X[:8000].copy()
        bad[[0, 4000, 7999]] = np.nan
        dX = da.from_array(bad, chunks=(2000, 3))
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            res = symmetries_of_point_cloud(dX, lk.GL(3), nan_policy="omit")
            fres = symmetries_of_function(lambda z: (z * z).sum(1), lk.GL(3), dX, nan_policy="omit")
        assert res.dim == 3 and res.samples == 7997 and res.angle_to(lk.SO(3)) <= 1e-8
        assert fres.dim == 3 and fres.samples == 7997
        assert sum("dropped 3 row(s)" in str(w.message) for w in seen) == 2
