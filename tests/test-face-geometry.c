/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-face-geometry.c: the shared face drawing model (common/
 * face-geometry.h) that the SVG map and the app both draw: every path
 * parses with the walker both use, every zone region is closed and lies in
 * the face's box, and each zone's probe point (where the tests read a
 * zone's colour, in the SVG and in the app) is inside its own region as
 * drawn (clipped by the outline) and inside no other zone, ear or feature.
 */
#include <glib.h>
#include <gio/gio.h>

#include "face-geometry.h"

/* A path flattened into polygons (one per subpath), curves in 32 steps. */
static GPtrArray *
flatten (const char *path)
{
  GPtrArray *polys = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  GArray *poly = NULL;
  DrFacePathIter iter;
  DrFacePathOp op;
  double pts[6];
  double x = 0, y = 0;
  g_autoptr (GError) error = NULL;

  dr_face_path_iter_init (&iter, path);
  while (dr_face_path_iter_next (&iter, &op, pts, &error))
    {
      if (op == DR_FACE_PATH_MOVE)
        {
          poly = g_array_new (FALSE, FALSE, sizeof (double));
          g_ptr_array_add (polys, poly);
        }
      g_assert_nonnull (poly);
      if (op == DR_FACE_PATH_CURVE)
        for (int k = 1; k <= 32; k++)
          {
            double t = k / 32.0, u = 1 - t;
            double px = u * u * u * x + 3 * u * u * t * pts[0] + 3 * u * t * t * pts[2]
                        + t * t * t * pts[4];
            double py = u * u * u * y + 3 * u * u * t * pts[1] + 3 * u * t * t * pts[3]
                        + t * t * t * pts[5];
            g_array_append_val (poly, px);
            g_array_append_val (poly, py);
          }
      else
        {
          g_array_append_val (poly, pts[0]);
          g_array_append_val (poly, pts[1]);
        }
      x = op == DR_FACE_PATH_CURVE ? pts[4] : pts[0];
      y = op == DR_FACE_PATH_CURVE ? pts[5] : pts[1];
    }
  g_assert_no_error (error);
  return polys;
}

/* Even-odd, as the SVG and cairo fill them. */
static gboolean
inside (const char *path, double px, double py)
{
  g_autoptr (GPtrArray) polys = flatten (path);
  gboolean in = FALSE;

  for (guint p = 0; p < polys->len; p++)
    {
      GArray *poly = g_ptr_array_index (polys, p);
      guint n = poly->len / 2;
      const double *v = (const double *) poly->data;

      for (guint i = 0, j = n - 1; i < n; j = i++)
        if ((v[2 * i + 1] > py) != (v[2 * j + 1] > py)
            && px < (v[2 * j] - v[2 * i]) * (py - v[2 * i + 1]) / (v[2 * j + 1] - v[2 * i + 1])
                        + v[2 * i])
          in = !in;
    }
  return in;
}

static gboolean
inside_drawn_zone (int zone, double x, double y)
{
  const DrFaceZoneShape *shape = &dr_face_zone_shapes[zone];

  return inside (shape->path, x, y) && (!shape->clip_to_face || inside (DR_FACE_OUTLINE, x, y));
}

static gboolean
inside_ellipse (const DrFacePart *part, double x, double y)
{
  double dx = (x - part->cx) / part->rx, dy = (y - part->cy) / part->ry;

  return dx * dx + dy * dy <= 1.0;
}

static void
test_paths_parse (void)
{
  DrFacePathIter iter;
  DrFacePathOp op;
  double pts[6];
  g_autoptr (GError) error = NULL;
  guint steps = 0;

  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      DrFacePathOp last = DR_FACE_PATH_MOVE;

      dr_face_path_iter_init (&iter, dr_face_zone_shapes[z].path);
      while (dr_face_path_iter_next (&iter, &op, pts, &error))
        {
          int n = op == DR_FACE_PATH_CURVE ? 6 : 2;
          for (int k = 0; k < n; k += 2)
            {
              g_assert_cmpfloat (pts[k], >=, DR_FACE_BOX_X);
              g_assert_cmpfloat (pts[k], <=, DR_FACE_BOX_X + DR_FACE_BOX_W);
              g_assert_cmpfloat (pts[k + 1], >=, DR_FACE_BOX_Y);
              g_assert_cmpfloat (pts[k + 1], <=, DR_FACE_BOX_Y + DR_FACE_BOX_H);
            }
          last = op;
          steps++;
        }
      g_assert_no_error (error);
      g_assert_cmpint (last, ==, DR_FACE_PATH_CLOSE);
    }
  for (gsize i = 0; i < dr_face_n_parts; i++)
    if (dr_face_parts[i].path != NULL)
      {
        dr_face_path_iter_init (&iter, dr_face_parts[i].path);
        while (dr_face_path_iter_next (&iter, &op, pts, &error))
          steps++;
        g_assert_no_error (error);
      }
  dr_face_path_iter_init (&iter, DR_FACE_OUTLINE);
  while (dr_face_path_iter_next (&iter, &op, pts, &error))
    steps++;
  g_assert_no_error (error);
  g_assert_cmpuint (steps, >, 50);
}

static void
test_path_walker (void)
{
  DrFacePathIter iter;
  DrFacePathOp op;
  double pts[6];
  g_autoptr (GError) error = NULL;

  /* H and V are lines from the current point; Z goes back to the start. */
  dr_face_path_iter_init (&iter, "M 10 20 H 30 V 40 C 1 2 3 4 5 6 Z");
  g_assert_true (dr_face_path_iter_next (&iter, &op, pts, &error));
  g_assert_cmpint (op, ==, DR_FACE_PATH_MOVE);
  g_assert_true (dr_face_path_iter_next (&iter, &op, pts, &error));
  g_assert_cmpint (op, ==, DR_FACE_PATH_LINE);
  g_assert_cmpfloat (pts[0], ==, 30);
  g_assert_cmpfloat (pts[1], ==, 20);
  g_assert_true (dr_face_path_iter_next (&iter, &op, pts, &error));
  g_assert_cmpfloat (pts[0], ==, 30);
  g_assert_cmpfloat (pts[1], ==, 40);
  g_assert_true (dr_face_path_iter_next (&iter, &op, pts, &error));
  g_assert_cmpint (op, ==, DR_FACE_PATH_CURVE);
  g_assert_cmpfloat (pts[5], ==, 6);
  g_assert_true (dr_face_path_iter_next (&iter, &op, pts, &error));
  g_assert_cmpint (op, ==, DR_FACE_PATH_CLOSE);
  g_assert_cmpfloat (pts[0], ==, 10);
  g_assert_cmpfloat (pts[1], ==, 20);
  g_assert_false (dr_face_path_iter_next (&iter, &op, pts, &error));
  g_assert_no_error (error);

  /* What the walker does not know is an error, not a guess. */
  dr_face_path_iter_init (&iter, "M 10 20 Q 1 2 3 4");
  g_assert_true (dr_face_path_iter_next (&iter, &op, pts, &error));
  g_assert_false (dr_face_path_iter_next (&iter, &op, pts, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  dr_face_path_iter_init (&iter, "M 10");
  g_assert_false (dr_face_path_iter_next (&iter, &op, pts, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_probes (void)
{
  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      const DrFaceZoneShape *shape = &dr_face_zone_shapes[z];
      double x = shape->probe_x, y = shape->probe_y;

      g_test_message ("zone %d probe %g %g", z, x, y);
      g_assert_true (inside_drawn_zone (z, x, y));
      /* Unclipped zones go first, under the face, then the rest in id
       * order: no zone drawn after this one may cover its probe. */
      for (int o = 0; o < DR_N_FACE_ZONES; o++)
        if (o != z && dr_face_zone_shapes[o].clip_to_face && (!shape->clip_to_face || o > z))
          g_assert_false (inside_drawn_zone (o, x, y));
      /* The face's skin goes over the unclipped ones. */
      if (!shape->clip_to_face)
        g_assert_false (inside (DR_FACE_OUTLINE, x, y));
      for (gsize i = 0; i < dr_face_n_parts; i++)
        {
          const DrFacePart *part = &dr_face_parts[i];

          if (part->kind == DR_FACE_PART_SHOULDERS)
            continue; /* under every zone */
          if (part->path == NULL)
            g_assert_false (inside_ellipse (part, x, y));
          else if (part->kind != DR_FACE_PART_BROW && part->kind != DR_FACE_PART_NOSTRIL
                   && part->kind != DR_FACE_PART_LIP_LINE)
            g_assert_false (inside (part->path, x, y));
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/face-geometry/paths-parse", test_paths_parse);
  g_test_add_func ("/face-geometry/path-walker", test_path_walker);
  g_test_add_func ("/face-geometry/probes", test_probes);
  return g_test_run ();
}
