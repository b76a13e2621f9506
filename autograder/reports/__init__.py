"""How results reach people and machines: one renderer per report format (``renderers``), files written atomically
(``output``), and the checks' figures drawn as SVG (``plots``).
"""

from .output import deliver, write_atomically, write_zip
from .plots import curves, render_svg, trajectory, write_figures
from .renderers import FORMATS, render

__all__ = ["FORMATS", "render", "deliver", "write_atomically", "write_zip", "trajectory", "curves", "render_svg", "write_figures"]
