"""What the synthetic scenes are made of: their options, ScanNet's label rows, the furniture catalogue, the colours.

Part of :mod:`~spatial_r1_eval.generation.synth` (which re-exports the public names).

>>> label_ids()["chair"], CATALOGUE[0].label, SynthOptions().n_frames
(2, 'door', 300)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from spatial_r1_eval.files import atomic_open

PathLike = str | os.PathLike[str]

#: rows of ScanNet's scannetv2-labels.combined.tsv (all columns, verbatim) for the categories synthesised here
# fmt: off
TSV_ROWS = (
    'id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class\teigen13class\tModelNet40\tModelNet10\tShapeNetCore55\tsynsetoffset\twnsynsetid\twnsynsetkey\tmpcat40\tmpcat40index',  # noqa: E501
    '1\twall\twall\t8277\t1\t12\twall\twall\tWall\t\t\t\t\tn04546855\twall.n.01\twall\t1',
    '3\tfloor\tfloor\t1553\t2\t5\tfloor\tfloor\tFloor\t\t\t\t\tn03365592\tfloor.n.01\tfloor\t2',
    '41\tceiling\tceiling\t806\t22\t3\tceiling\tceiling\tCeiling\t\t\t\t\tn02990373\tceiling.n.01\tceiling\t17',
    '11\tbed\tbed\t370\t4\t1\tbed\tbed\tBed\tbed\tbed\tbed\t2818832\tn02818832\tbed.n.01\tbed\t11',
    '2\tchair\tchair\t4646\t5\t4\tchair\tchair\tChair\tchair\tchair\tchair\t3001627\tn03001627\tchair.n.01\tchair\t3',
    '4\ttable\ttable\t1170\t7\t10\ttable\ttable\tTable\ttable\ttable\ttable\t4379243\tn04379243\ttable.n.02\ttable\t5',
    '1313\tsofa\tsofa\t1\t6\t9\tsofa\tsofa\tSofa\tsofa\tsofa\tsofa\t4256520\tn04256520\tsofa.n.01\tsofa\t10',
    '9\tdesk\tdesk\t680\t14\t10\tdesk\tdesk\tTable\tdesk\tdesk\ttable\t4379243\tn03179701\tdesk.n.01\ttable\t5',
    '34\tnightstand\tnightstand\t224\t32\t6\tnight stand\tnight stand\tFurniture\tnight_stand\tnight_stand\t\t\tn03015254\tchest_of_drawers.n.01\tchest_of_drawers\t13',  # noqa: E501
    '7\tcabinet\tcabinet\t731\t3\t6\tcabinet\tcabinet\tFurniture\t\t\tcabinet\t2933112\tn02933112\tcabinet.n.01\tcabinet\t7',  # noqa: E501
    '18\tbookshelf\tbookshelf\t360\t10\t6\tbookshelf\tbookshelf\tFurniture\tbookshelf\t\tbookshelf\t2871439\tn02871439\tbookshelf.n.01\tshelving\t31',  # noqa: E501
    '27\trefrigerator\trefrigerator\t154\t24\t6\trefridgerator\trefridgerator\tFurniture\t\t\t\t\tn04070727\trefrigerator.n.01\tappliances\t37',  # noqa: E501
    '33\ttv\ttv\t219\t25\t11\ttelevision\ttelevision\tTV\t\t\ttv or monitor\t3211117\tn03211117\tdisplay.n.06\ttv_monitor\t22',  # noqa: E501
    '56\ttrash can\ttrash can\t1090\t39\t6\tgarbage bin\totherfurniture\tFurniture\t\t\ttrash_bin\t2747177\tn02747177\tashcan.n.01\tobjects\t39',  # noqa: E501
    '28\tlamp\tlamp\t419\t35\t7\tlamp\tlamp\tObjects\tlamp\t\tlamp\t3636649\tn03636649\tlamp.n.02\tlighting\t28',
    '38\tstool\tstool\t221\t40\t7\tstool\totherprop\tObjects\tstool\t\t\t\tn04326896\tstool.n.01\tstool\t19',
    '36\tdresser\tdresser\t213\t17\t6\tdresser\tdresser\tFurniture\tdresser\tdresser\t\t\tn03015254\tchest_of_drawers.n.01\tchest_of_drawers\t13',  # noqa: E501
    '10\toffice chair\toffice chair\t595\t5\t4\tchair\tchair\tChair\tchair\tchair\tchair\t3001627\tn04373704\tswivel_chair.n.01\tchair\t3',  # noqa: E501
    '23\tarmchair\tarmchair\t281\t5\t4\tchair\tchair\tChair\tchair\tchair\tchair\t3001627\tn02738535\tarmchair.n.01\tchair\t3',  # noqa: E501
    '24\tcoffee table\tcoffee table\t258\t7\t10\tcoffee table\ttable\tTable\ttable\ttable\ttable\t4379243\tn03063968\tcoffee_table.n.01\ttable\t5',  # noqa: E501
    '5\tdoor\tdoor\t1483\t8\t12\tdoor\tdoor\tWall\tdoor\t\t\t\tn03221720\tdoor.n.01\tdoor\t4',
    '16\twindow\twindow\t1209\t9\t13\twindow\twindow\tWindow\t\t\t\t\tn04587648\twindow.n.01\twindow\t9',
    '40\tplant\tplant\t331\t40\t7\tplant\totherprop\tObjects\tplant\t\t\t\tn00017222\tplant.n.02\tplant\t14',
    '51\ttv stand\ttv stand\t61\t39\t6\ttv stand\totherfurniture\tFurniture\ttv_stand\t\t\t\tn03290653\tentertainment_center.n.01\tfurniture\t36',  # noqa: E501
    '67\tottoman\tottoman\t111\t39\t6\tottoman\totherfurniture\tFurniture\tstool\t\t\t\tn03380724\tfootstool.n.01\tstool\t19',  # noqa: E501
    '44\tend table\tend table\t147\t7\t10\ttable\ttable\tTable\ttable\ttable\ttable\t4379243\tn04379243\ttable.n.02\ttable\t5',  # noqa: E501
)
# fmt: on


@dataclass(frozen=True)
class SynthOptions:
    """Size options of synthetic scenes (the defaults match a small real scan)."""

    n_points: int = field(default=100_000, metadata={"help": "approximate mesh vertices per scene"})
    n_frames: int = field(default=300, metadata={"help": ".sens frames per scene (30 fps)"})
    width: int = field(default=640, metadata={"help": "image width in pixels (colour, depth and labels)"})
    height: int = field(default=480, metadata={"help": "image height in pixels"})
    min_pixels: int = field(default=100, metadata={"help": "pixels a category needs to count as seen in a frame"})
    invalid_poses: int = field(default=0, metadata={"help": "frames given an invalid (-inf) pose, as in ScanNet"})
    jpeg_quality: int = field(default=90, metadata={"help": "JPEG quality of the colour frames"})

    def __post_init__(self) -> None:
        if self.n_points < 1000:
            raise ValueError(f"n_points must be >= 1000, got {self.n_points}")
        if self.n_frames < 2:
            raise ValueError(f"n_frames must be >= 2, got {self.n_frames}")
        if self.width < 16 or self.height < 16:
            raise ValueError(f"image size must be at least 16x16, got {self.width}x{self.height}")
        if self.min_pixels < 1:
            raise ValueError(f"min_pixels must be >= 1, got {self.min_pixels}")
        if not 0 <= self.invalid_poses < self.n_frames:
            raise ValueError(f"invalid_poses must be in [0, n_frames), got {self.invalid_poses}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in [1, 100], got {self.jpeg_quality}")


@dataclass(frozen=True)
class FurnitureSpec:
    """A furniture category: size ranges (whole cm) along its width, depth, height; how many; where."""

    label: str
    w: tuple[int, int]
    d: tuple[int, int]
    h: tuple[int, int]
    count: tuple[int, int]  # min, max instances
    place: str  # "wall" (back against a wall), "free", "any"
    any_yaw: bool = False
    z0: tuple[int, int] = (0, 0)  # bottom height range (cm), windows only
    clearance: float = 0.0  # extra free depth in front (m), doors and windows


CATALOGUE: tuple[FurnitureSpec, ...] = (
    FurnitureSpec("door", (80, 95), (4, 5), (200, 210), (1, 1), "wall", clearance=0.8),
    FurnitureSpec("window", (80, 160), (8, 10), (100, 140), (0, 2), "wall", z0=(80, 100), clearance=0.3),
    FurnitureSpec("bed", (140, 180), (195, 210), (45, 60), (0, 1), "wall"),
    FurnitureSpec("sofa", (180, 230), (85, 100), (75, 90), (0, 1), "wall"),
    FurnitureSpec("bookshelf", (60, 120), (28, 40), (150, 210), (0, 2), "wall"),
    FurnitureSpec("refrigerator", (60, 80), (60, 72), (160, 190), (0, 1), "wall"),
    FurnitureSpec("cabinet", (60, 120), (40, 60), (80, 200), (0, 2), "wall"),
    FurnitureSpec("dresser", (80, 140), (40, 55), (75, 110), (0, 1), "wall"),
    FurnitureSpec("tv stand", (100, 180), (35, 50), (40, 60), (0, 1), "wall"),
    FurnitureSpec("lamp", (25, 45), (25, 45), (120, 170), (0, 2), "wall"),
    FurnitureSpec("nightstand", (40, 55), (35, 45), (45, 60), (0, 2), "wall"),
    FurnitureSpec("table", (120, 180), (75, 95), (72, 78), (0, 1), "free"),
    FurnitureSpec("desk", (100, 160), (55, 75), (72, 78), (0, 1), "any"),
    FurnitureSpec("coffee table", (80, 120), (50, 70), (40, 48), (0, 1), "free"),
    FurnitureSpec("chair", (42, 55), (45, 55), (80, 100), (0, 4), "free", any_yaw=True),
    FurnitureSpec("office chair", (55, 68), (55, 68), (90, 120), (0, 1), "free", any_yaw=True),
    FurnitureSpec("armchair", (70, 90), (75, 90), (80, 100), (0, 2), "any", any_yaw=True),
    FurnitureSpec("stool", (30, 45), (30, 45), (45, 75), (0, 3), "free", any_yaw=True),
    FurnitureSpec("ottoman", (40, 70), (40, 70), (38, 45), (0, 1), "free"),
    FurnitureSpec("end table", (40, 60), (40, 60), (50, 65), (0, 2), "any"),
    FurnitureSpec("plant", (30, 60), (30, 60), (50, 115), (0, 2), "any"),
    FurnitureSpec("trash can", (25, 40), (25, 40), (35, 70), (0, 2), "any"),
)

#: base colours (RGB) of the rendered surfaces and vertex colours
PALETTE = {
    "floor": (150, 120, 90), "wall": (205, 200, 190), "ceiling": (235, 235, 230), "door": (120, 80, 50),
    "window": (150, 190, 230), "bed": (190, 60, 60), "sofa": (70, 90, 160), "bookshelf": (140, 100, 60),
    "refrigerator": (225, 225, 225), "cabinet": (170, 130, 80), "dresser": (110, 70, 40), "tv stand": (40, 40, 40),
    "lamp": (240, 210, 120), "nightstand": (160, 110, 70), "table": (180, 140, 90), "desk": (100, 120, 100),
    "coffee table": (90, 60, 40), "chair": (60, 140, 70), "office chair": (30, 30, 60), "armchair": (150, 90, 150),
    "stool": (200, 150, 50), "ottoman": (120, 160, 170), "end table": (130, 90, 60), "plant": (40, 150, 40),
    "trash can": (90, 90, 100),
}  # fmt: skip


def label_ids() -> dict[str, int]:
    """Category -> ScanNet label id (TSV ``id``) of the categories synthesised here.

    Example:
        >>> label_ids()["chair"], label_ids()["floor"]
        (2, 3)
    """
    header = TSV_ROWS[0].split("\t")
    out = {}
    for row in TSV_ROWS[1:]:
        rec = dict(zip(header, row.split("\t"), strict=True))
        out[rec["category"]] = int(rec["id"])
    return out


def write_label_tsv(path: PathLike) -> None:
    """Write the v2 label TSV subset (real header and rows) to ``path`` atomically."""
    with atomic_open(path) as f:
        f.write("\n".join(TSV_ROWS) + "\n")
