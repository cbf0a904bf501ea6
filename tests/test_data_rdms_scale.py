"""DataRDMs checks its RDMs relative to their scale (skrep.functional's RDM check)."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from skrep.metrics import DataRDMs


def _rdm(rng, scale):
    return scale * squareform(pdist(rng.standard_normal((8, 3))))


@pytest.mark.parametrize("scale", [1e12, 1e-12])
def test_rounding_size_errors_pass_at_any_scale(rng, scale):
    D = _rdm(rng, scale)
    D[np.diag_indices(8)] = 1e-14 * D.max()  # rounding left on the diagonal
    D[0, 1] *= 1 + 4e-16  # and in the symmetry
    rdms = DataRDMs(D).rdms
    assert rdms.shape == (1, 8, 8)
    np.testing.assert_array_equal(rdms[0], D)  # kept as given


@pytest.mark.parametrize("scale", [1e12, 1.0, 1e-12])
def test_truly_asymmetric_rdms_are_refused_by_name(rng, scale):
    D = np.stack([_rdm(rng, scale), _rdm(rng, scale)])
    D[1, 0, 1] *= 1.01
    with pytest.raises(ValueError, match=r"^rdms holds square RDMs that are not symmetric.*RDM 1"):
        DataRDMs(D)
    D = _rdm(rng, scale)
    D[2, 2] = 1e-3 * D.max()
    with pytest.raises(ValueError, match=r"^rdms holds square RDMs with a non-zero diagonal"):
        DataRDMs(D)
