"""Split a polygon into compact parts of balanced "weight" (Voronoi cells of k-means seeds).

Used to generate synthetic streets and communities: sample points stand for the area of
a region, each carrying the area it represents and the target size of a part where it
lies (small in built-up land, large in the countryside). Weighted k-means places seeds,
and the Voronoi cells of the seeds, clipped to the region, are the parts. All geometry
here is in a projected frame (metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from opencitybrain.geo.regions import Polygonal, polygonal

__all__ = ["Samples", "part_count", "split_region"]

# Lloyd iterations stop early once no seed moves more than this many metres.
_SETTLED_M = 1.0
_MAX_ITERATIONS = 40
# A detached piece of a clipped cell smaller than this share of the cell is handed to
# the neighbour it shares most border with, so parts stay in one piece where possible.
_FRAGMENT_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Samples:
    """Hold sample points of a region: position (m), area (km²) and target part size (km²)."""

    xy: NDArray[np.float64]
    area: NDArray[np.float64]
    target: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.xy)

    def select(self, mask: NDArray[np.bool_]) -> Samples:
        """Return the samples where mask is True."""
        return Samples(self.xy[mask], self.area[mask], self.target[mask])

    def inside(self, region: Polygonal) -> Samples:
        """Return the samples that lie inside or on a region."""
        mask = shapely.intersects_xy(region, self.xy[:, 0], self.xy[:, 1])
        return self.select(np.asarray(mask, dtype=bool))


def part_count(samples: Samples) -> int:
    """Return how many parts the samples ask for: their total area over target size."""
    if len(samples) == 0:
        return 1
    return max(1, round(float(np.sum(samples.area / samples.target))))


def _kmeans_pp(
    xy: NDArray[np.float64], weight: NDArray[np.float64], k: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Pick k starting seeds, each with probability weight × squared distance (k-means++)."""
    chosen = [int(rng.choice(len(xy), p=weight / weight.sum()))]
    nearest = np.sum((xy - xy[chosen[0]]) ** 2, axis=1)
    for _ in range(1, k):
        score = weight * nearest
        total = score.sum()
        if total <= 0.0:
            break
        pick = int(rng.choice(len(xy), p=score / total))
        chosen.append(pick)
        nearest = np.minimum(nearest, np.sum((xy - xy[pick]) ** 2, axis=1))
    return xy[chosen].copy()


def _weighted_kmeans(samples: Samples, k: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Return k seed positions by weighted Lloyd iteration.

    In two dimensions k-means puts seeds with density proportional to the square root of
    the point weight density, so a weight of area / target² gives parts whose size
    follows the target: ~target km² each.
    """
    xy = samples.xy
    weight = samples.area / samples.target**2
    seeds = _kmeans_pp(xy, weight, k, rng)
    for _ in range(_MAX_ITERATIONS):
        _, label = cKDTree(seeds).query(xy)
        mass = np.bincount(label, weight, minlength=len(seeds))
        sum_x = np.bincount(label, weight * xy[:, 0], minlength=len(seeds))
        sum_y = np.bincount(label, weight * xy[:, 1], minlength=len(seeds))
        # A seed that lost all its points keeps its place rather than vanishing.
        live = mass > 0
        moved = seeds.copy()
        moved[live, 0] = sum_x[live] / mass[live]
        moved[live, 1] = sum_y[live] / mass[live]
        shift = float(np.max(np.hypot(*(moved - seeds).T)))
        seeds = moved
        if shift < _SETTLED_M:
            break
    return seeds


def _merge_fragments(cells: list[Polygonal]) -> list[Polygonal]:
    """Hand small detached pieces of each cell to the neighbour sharing most border."""
    keep: list[Polygonal] = []
    orphans: list[tuple[int, shapely.Polygon]] = []
    for origin, cell in enumerate(cells):
        parts = sorted(shapely.get_parts(cell), key=lambda p: -p.area)
        main = [parts[0]] + [p for p in parts[1:] if p.area >= _FRAGMENT_SHARE * cell.area]
        orphans.extend((origin, p) for p in parts[1:] if p.area < _FRAGMENT_SHARE * cell.area)
        keep.append(polygonal(shapely.union_all(main)) if len(main) > 1 else main[0])
    if not orphans:
        return keep
    tree = shapely.STRtree(keep)
    extra: dict[int, list[shapely.Polygon]] = {}
    for origin, orphan in orphans:
        candidates = tree.query(orphan, predicate="intersects")
        if len(candidates) == 0:
            # An island touching no other cell stays with the cell it came from.
            owner = origin
        else:
            shared = shapely.length(
                shapely.intersection(orphan.boundary, shapely.boundary(tree.geometries[candidates]))
            )
            owner = int(candidates[int(np.argmax(shared))])
        extra.setdefault(owner, []).append(orphan)
    for owner, pieces in extra.items():
        keep[owner] = polygonal(shapely.union_all([keep[owner], *pieces]))
    return keep


def _reading_order(cells: list[Polygonal]) -> list[Polygonal]:
    """Order cells in rows north to south, each row west to east, like GB/T 30428 grids."""
    points = shapely.get_coordinates(shapely.point_on_surface(cells))
    total = float(np.sum(shapely.area(cells)))
    band = max(math.sqrt(total / len(cells)), 1.0)
    row = np.floor(-points[:, 1] / band)
    order = np.lexsort((points[:, 0], row))
    return [cells[i] for i in order]


def split_region(
    region: Polygonal, samples: Samples, rng: np.random.Generator, parts: int | None = None
) -> list[Polygonal]:
    """Split a region into parts that tile it exactly, in reading order.

    ``parts`` defaults to :func:`part_count` of the samples. Fewer parts come back when
    the samples cannot support that many (a part needs at least one sample).
    """
    k = part_count(samples) if parts is None else parts
    k = min(k, len(np.unique(samples.xy, axis=0)))
    if k <= 1:
        return [region]
    seeds = np.unique(_weighted_kmeans(samples, k, rng), axis=0)
    extent = shapely.buffer(shapely.envelope(region), 1000.0)
    voronoi = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=extent, ordered=True)
    clipped = shapely.intersection(shapely.get_parts(voronoi), region)
    cells = [polygonal(cell) for cell in clipped if shapely.area(cell) > 0.0]
    if len(cells) <= 1:
        return [region]
    return _reading_order(_merge_fragments(cells))
