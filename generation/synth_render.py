"""Camera path and renderer of a synthetic scene: exact colour, depth, label and instance images by ray casting.

Rendering is ray casting in NumPy (walls/floor/ceiling + the furniture boxes), so the images are exact and consistent
with the geometry. Part of :mod:`~spatial_r1_eval.generation.synth`.
"""

from __future__ import annotations

import math

import numpy as np

from spatial_r1_eval.generation.synth_catalogue import PALETTE
from spatial_r1_eval.generation.synth_layout import FurnitureBox, Room
from spatial_r1_eval.generation.synth_mesh import shade

_CAMERA_OFFSET = 1.0  # camera path distance from the walls (m); wall-placed tall items are shallower
_CAMERA_HEIGHT = 1.5
# viewing direction relative to the walking direction (deg, positive = towards the room centre): a base turn
# plus a slow sweep that starts at its outward extreme, so objects come into view progressively (as when a
# ScanNet operator scans along the walls) and the room centre is still seen on the inward swings
_TURN_DEG = (-30.0, -10.0)
_SWEEP_DEG = 45.0  # one full sweep per loop around the room


def camera_path(room: Room, n_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Camera-to-world poses (aligned frame) walking once around the room 1 m from the walls, 20 deg down.

    The view starts turned towards the wall ahead and sweeps once towards the room centre and back, so
    objects come into view over the whole stream (appearance order) and every part of the room is seen.
    """
    poly = room.polygon()
    k = len(poly)
    path = []
    for i in range(k):
        prev_e = poly[i] - poly[i - 1]
        next_e = poly[(i + 1) % k] - poly[i]
        n1 = np.array([-prev_e[1], prev_e[0]]) / np.linalg.norm(prev_e)
        n2 = np.array([-next_e[1], next_e[0]]) / np.linalg.norm(next_e)
        path.append(poly[i] + _CAMERA_OFFSET * (n1 + n2))
    path = np.array(path + [path[0]])
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]

    def at(s: float) -> np.ndarray:
        s = s % total
        j = min(int(np.searchsorted(cum, s, side="right")) - 1, len(seg) - 1)
        return path[j] + (s - cum[j]) / seg[j] * (path[j + 1] - path[j])

    phase = float(rng.uniform(0, total))
    turn = math.radians(float(rng.uniform(*_TURN_DEG)))
    poses = []
    for f in range(n_frames):
        s = phase + total * f / n_frames
        xy = at(s)
        tangent = at(s + 0.7) - at(s - 0.7)
        sweep = math.radians(_SWEEP_DEG) * math.sin(2 * math.pi * f / n_frames - math.pi / 2)
        yaw = math.atan2(tangent[1], tangent[0]) + turn + sweep
        pitch = math.radians(-20)
        fwd = np.array([math.cos(yaw) * math.cos(pitch), math.sin(yaw) * math.cos(pitch), math.sin(pitch)])
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        pose = np.eye(4)
        pose[:3, :3] = np.stack([right, down, fwd], axis=1)
        pose[:3, 3] = [xy[0], xy[1], _CAMERA_HEIGHT + 0.03 * math.sin(2 * math.pi * f / 20)]
        poses.append(pose)
    return poses


class Renderer:
    """Ray caster for one scene: room (floor, ceiling, walls) + furniture boxes; exact z-buffer, float32."""

    def __init__(self, room: Room, boxes: list[FurnitureBox], box_ids: list[int], room_ids: dict, ids: dict[str, int],
                 colors: dict[int, np.ndarray], intrinsics: np.ndarray, width: int, height: int):  # fmt: skip
        self.room, self.boxes, self.width, self.height = room, boxes, width, height
        self.k = intrinsics
        fx, fy, cx, cy = intrinsics[0, 0], intrinsics[1, 1], intrinsics[0, 2], intrinsics[1, 2]
        u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
        # camera ray directions (x, y, 1): the ray parameter t is the camera z-depth
        self.px = ((u - cx) / fx).astype(np.float32)
        self.py = ((v - cy) / fy).astype(np.float32)
        poly = room.polygon()
        self.walls = [(poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly))]
        # surface table: 0 floor, 1 ceiling, 2.. walls, then boxes
        n_walls = len(self.walls)
        self.label = np.zeros(2 + n_walls + len(boxes), np.uint16)
        self.instance = np.zeros(len(self.label), np.uint8)
        self.color = np.zeros((len(self.label), 3), np.float32)
        self.shade = np.zeros((len(self.label), 3), np.float32)  # per surface and local axis (boxes)
        self.label[0], self.instance[0], self.color[0] = ids["floor"], room_ids["floor"] + 1, colors[room_ids["floor"]]
        self.label[1], self.color[1] = ids["ceiling"], np.array(PALETTE["ceiling"], float)
        self.shade[0], self.shade[1] = shade(np.array([0, 0, 1.0])), shade(np.array([0, 0, -1.0]))
        for i, (a, b) in enumerate(self.walls):
            oid = room_ids["walls"][i]
            self.label[2 + i], self.instance[2 + i], self.color[2 + i] = ids["wall"], oid + 1, colors[oid]
            self.shade[2 + i] = shade(np.array([-(b - a)[1], (b - a)[0], 0.0]) / np.linalg.norm(b - a))
        for j, (box, oid) in enumerate(zip(boxes, box_ids, strict=True)):
            s = 2 + n_walls + j
            self.label[s], self.instance[s], self.color[s] = ids[box.label], oid + 1, colors[oid]
            self.shade[s] = [shade(axis) for axis in box.rotation.T]
        self.shade[0, 1] = 0.9 * self.shade[0, 0]  # dark floor tiles
        for a, b in self.walls:
            if a[0] != b[0] and a[1] != b[1]:
                raise ValueError("synthetic rooms have axis-aligned walls only")
        # colour of every (surface, shade slot): one gather per frame
        self.lut = np.clip(np.round(self.color[:, None, :] * self.shade[:, :, None]), 0, 255).astype(np.uint8)

    def render(self, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(colour uint8 (H,W,3), depth uint16 mm, label ids uint16, instance ids uint8) for a camera pose."""
        rot, o = pose[:3, :3], pose[:3, 3]
        px, py = self.px, self.py
        f32 = np.float32
        dx = px * f32(rot[0, 0]) + py * f32(rot[0, 1]) + f32(rot[0, 2])
        dy = px * f32(rot[1, 0]) + py * f32(rot[1, 1]) + f32(rot[1, 2])
        dz = px * f32(rot[2, 0]) + py * f32(rot[2, 1]) + f32(rot[2, 2])
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_dz = 1.0 / dz
            t = np.where(dz < 0, f32(-o[2]) * inv_dz, f32(self.room.height - o[2]) * inv_dz).astype(f32)
            surf = np.where(dz < 0, 0, 1).astype(np.int16)
            axis = np.zeros(t.shape, np.int8)
            inv_dx, inv_dy = 1.0 / dx, 1.0 / dy
            for i, (a, b) in enumerate(self.walls):
                ends = np.array([[a[0], a[1], 0.0], [b[0], b[1], 0.0], [a[0], a[1], self.room.height],
                                 [b[0], b[1], self.room.height]])  # fmt: skip
                if np.all((ends - o) @ rot[:, 2] <= 0):  # wall entirely behind the camera
                    continue
                # walls are axis-aligned (orthogonal rooms): plane x = const or y = const, extent along the other
                k = 0 if a[0] == b[0] else 1  # the constant coordinate
                lo, hi = sorted((a[1 - k], b[1 - k]))
                tw = f32(a[k] - o[k]) * (inv_dx if k == 0 else inv_dy)
                other = f32(o[1 - k]) + tw * (dy if k == 0 else dx)
                hit = (tw > 1e-6) & (tw < t) & (other >= lo) & (other <= hi)
                np.copyto(t, tw, where=hit)
                np.copyto(surf, np.int16(2 + i), where=hit)
        for j, box in enumerate(self.boxes):
            self._cast_box(box, 2 + len(self.walls) + j, rot, o, t, surf, axis)
        floor = surf == 0
        if floor.any():  # checkerboard floor tiles: dark tiles use the floor's second shade slot
            tf = t[floor]
            checker = (np.floor((f32(o[0]) + tf * dx[floor]) * 2) + np.floor((f32(o[1]) + tf * dy[floor]) * 2)) % 2
            axis[floor] = (checker == 0).astype(np.int8)
        color = self.lut[surf, axis]
        depth = (np.minimum(t * 1000.0, 65535.0) + 0.5).astype(np.uint16)
        return color, depth, self.label[surf], self.instance[surf]

    def _screen_rect(self, box: FurnitureBox, rot: np.ndarray, o: np.ndarray) -> tuple[int, int, int, int] | None:
        """Pixel rectangle (u0, u1, v0, v1) covering the box clipped to z >= near, or None when not visible."""
        near = 0.01
        corners = (box.corners() - o) @ rot  # camera coordinates
        z = corners[:, 2]
        front = z >= near
        if not front.any():
            return None
        pts = [corners[front]]
        if not front.all():  # add the intersections of the 12 edges with the near plane
            idx = np.arange(8)
            for bit in (1, 2, 4):
                a, b = idx[(idx & bit) == 0], idx[(idx & bit) == 0] + bit
                cross = front[a] != front[b]
                if cross.any():
                    ca, cb = corners[a[cross]], corners[b[cross]]
                    s = (near - ca[:, 2]) / (cb[:, 2] - ca[:, 2])
                    pts.append(ca + s[:, None] * (cb - ca))
        p = np.concatenate(pts)
        u = self.k[0, 0] * p[:, 0] / p[:, 2] + self.k[0, 2]
        v = self.k[1, 1] * p[:, 1] / p[:, 2] + self.k[1, 2]
        u0, u1 = max(int(np.floor(u.min())), 0), min(int(np.ceil(u.max())) + 1, self.width)
        v0, v1 = max(int(np.floor(v.min())), 0), min(int(np.ceil(v.max())) + 1, self.height)
        if u0 >= u1 or v0 >= v1:
            return None
        return u0, u1, v0, v1

    def _cast_box(self, box: FurnitureBox, sid: int, rot: np.ndarray, o: np.ndarray, t, surf, axis_img) -> None:
        rect = self._screen_rect(box, rot, o)
        if rect is None:
            return
        u0, u1, v0, v1 = rect
        rb = box.rotation
        m = (rot.T @ rb).astype(np.float32)  # camera -> box-local directions
        o_local = rb.T @ (o - box.center)
        half = box.size / 2
        px, py = self.px[v0:v1, u0:u1], self.py[v0:v1, u0:u1]
        tnear = tfar = None
        tn_list = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for k in range(3):
                inv = 1.0 / (px * m[0, k] + py * m[1, k] + m[2, k])
                t1 = np.float32(-half[k] - o_local[k]) * inv
                t2 = np.float32(half[k] - o_local[k]) * inv
                tn, tf = np.minimum(t1, t2), np.maximum(t1, t2)
                tn_list.append(tn)
                tnear = tn if tnear is None else np.maximum(tnear, tn)
                tfar = tf if tfar is None else np.minimum(tfar, tf)
        sub_t = t[v0:v1, u0:u1]
        hit = (tnear <= tfar) & (tnear > 1e-4) & (tnear < sub_t)
        if not hit.any():
            return
        face_axis = np.where(tn_list[0] == tnear, 0, np.where(tn_list[1] == tnear, 1, 2)).astype(np.int8)
        np.copyto(sub_t, tnear, where=hit)
        np.copyto(surf[v0:v1, u0:u1], np.int16(sid), where=hit)
        np.copyto(axis_img[v0:v1, u0:u1], face_axis, where=hit)
