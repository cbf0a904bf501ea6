"""Checks shared by the plotting tests: is every drawn label inside the saved figure?"""

import io

import numpy as np


def drawn_tick_labels(fig):
    """The non-empty tick labels matplotlib draws (ticks inside the view limits), all axes."""
    axes = list(fig.axes)
    axes += [child for ax in fig.axes for child in ax.child_axes]  # secondary axes
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    for label in (tick.label1, tick.label2):
                        if label.get_visible() and label.get_text():
                            yield label


def labels_outside(fig):
    """Save ``fig`` as a PNG (Agg); the labels whose extent leaves the figure, and the image.

    Returns the texts of tick labels (and titles) not wholly inside the figure
    and the saved image's (height, width), which must equal the figure's size
    in pixels (nothing was cropped or added by saving).
    """
    import matplotlib.image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    buffer.seek(0)
    shape = matplotlib.image.imread(buffer, format="png").shape[:2]
    box = fig.bbox
    texts = list(drawn_tick_labels(fig))
    texts += [ax.title for ax in fig.axes if ax.get_title()]
    if fig._suptitle is not None:
        texts.append(fig._suptitle)
    outside = []
    for text in texts:
        extent = text.get_window_extent()
        inside = (
            extent.x0 >= box.x0 - 0.5
            and extent.y0 >= box.y0 - 0.5
            and extent.x1 <= box.x1 + 0.5
            and extent.y1 <= box.y1 + 0.5
        )
        if not inside:
            outside.append(text.get_text())
    size = np.array([box.height, box.width])
    assert np.all(np.abs(np.array(shape) - size) < 1), f"saved image {shape}, figure {size}"
    assert texts, "no labels drawn"
    return outside


def long_names(prefix, n, length=40):
    """n distinct names of about ``length`` characters, like deep layer paths."""
    stem = ("model.encoder.layers.attention.output." * 4)[:length]
    return [f"{prefix}{k}.{stem}" for k in range(n)]


def symmetric_distances(rng, n):
    points = rng.normal(size=(n, 3))
    return np.linalg.norm(points[:, None] - points[None], axis=-1)
