"""The 92-image RDMs of Kriegeskorte et al. (2008), shipped with skrep."""

from __future__ import annotations

from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from ..functional.rdm import square_to_condensed

__all__ = ["load_kriegeskorte92"]

CITATION = (
    "Kriegeskorte, N., Mur, M., Ruff, D. A., Kiani, R., Bodurka, J., Esteky, H., Tanaka, K., "
    "& Bandettini, P. A. (2008). Matching categorical object representations in inferior "
    "temporal cortex of man and monkey. Neuron, 60(6), 1126-1141. "
    "https://doi.org/10.1016/j.neuron.2008.10.043"
)


def _read(name: str) -> dict[str, np.ndarray]:
    """The arrays of one of the package's ``data/*.npz`` files."""
    source = resources.files("skrep.datasets") / "data" / name
    with resources.as_file(source) as path, np.load(path, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


def load_kriegeskorte92(*, condensed: bool = False, images: bool = False) -> Bunch:
    """Brain, model and behaviour RDMs of the 92-image experiment (Kriegeskorte et al. 2008).

    92 photographs of isolated objects (faces, bodies, animals, natural and
    man-made objects) were shown to human subjects in fMRI; the RDMs are
    ``1 - Pearson r`` between the response patterns of human inferior temporal
    cortex (hIT) to every pair of images. The data come from the
    ``demos/92imageData`` folder of rsatoolbox (MIT licence), which
    redistributes them; cite the paper (``CITATION`` in the result) when you
    use them. They ship with skrep: nothing is downloaded.

    Parameters
    ----------
    condensed : bool, default=False
        Return the RDMs as condensed vectors (upper triangle, row by row, the
        order of :func:`scipy.spatial.distance.squareform`) instead of square
        matrices.
    images : bool, default=False
        Also return the 92 stimulus images, downsampled to 64x64 pixels
        (``images`` in the result).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``brain_rdms``: (8, 92, 92) human IT RDMs, 4 subjects x 2 sessions
          (``brain_names``, e.g. ``"hIT | BE | Session: 1"``);
        - ``model_rdms``: (8, 92, 92) candidate models: animacy,
          FaceBodyManmadeNatobj, monkeyIT, EVA, HMAX, V1, Silhouette, RADON
          (``model_names``);
        - ``behaviour_rdms``: (16, 92, 92) similarity judgements of 16 subjects
          (``behaviour_names``);
        - ``fig1_rdm_vectors``: (2, 4186) the paper's Figure 1 RDMs, monkey IT
          (674 neurons) and human IT (316 voxels), condensed
          (``fig1_names``);
        - ``category_vectors``: (92, 12) binary category membership of each
          image (``category_labels``: animate, inanim, human, nonhumani,
          body, face, natObj, artiObj, ...);
        - ``images`` (with ``images=True``): (92, 64, 64, 3) uint8 RGB
          stimulus images in the order of the RDMs, objects on a uniform gray
          (128) background, downsampled from the original 175x175 pixels by
          area averaging;
        - ``CITATION``: the paper to cite; ``DESCR``: a description.

        Square RDMs are symmetric with a zero diagonal, float64.

    Examples
    --------
    >>> from skrep.datasets import load_kriegeskorte92
    >>> data = load_kriegeskorte92()
    >>> data.brain_rdms.shape, data.model_names[:2].tolist()
    ((8, 92, 92), ['animacy', 'FaceBodyManmadeNatobj'])
    >>> load_kriegeskorte92(images=True).images.shape
    (92, 64, 64, 3)
    """
    data = _read("kriegeskorte92_rdms.npz")
    if images:
        data["images"] = _read("kriegeskorte92_images.npz")["images"]
    for key in ("brain_rdms", "model_rdms", "behaviour_rdms"):
        square = data[key].astype(np.float64)
        data[key] = square_to_condensed(square) if condensed else square
    for key in ("brain_names", "model_names", "behaviour_names", "fig1_names", "category_labels"):
        data[key] = np.asarray([str(name) for name in data[key]])
    return Bunch(
        **data,
        CITATION=CITATION,
        DESCR=(
            "92 object images; RDMs of human IT fMRI (4 subjects x 2 sessions), 8 candidate "
            "models and 16 subjects' similarity judgements. Cite: " + CITATION
        ),
    )
