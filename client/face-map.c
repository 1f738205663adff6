/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* face-map.c: draws the face coverage map; see face-map.h.
 *
 * The face is drawn in fixed "face units" and placed, 1.15 times larger,
 * on the left of a 940 × 880 canvas; the legend and the zones without a
 * place on the face go on the right. Each zone is a plain shape clipped by the face outline, so its
 * outer edge follows the face and only the inner boundaries are drawn by
 * hand. Eyes, brows, mouth and the area around them are neutral skin: they
 * are never rolled and are no zone.
 *
 * Everything that varies (names, numbers) is written with C-locale
 * formatting and XML-escaped, so the document is the same in any locale
 * and a user's zone name cannot break it.
 */
#include "face-map.h"

#include "coverage-colour.h"
#include "face-geometry.h"
#include "zones.h"

#include <math.h>
#include <string.h>

#define CANVAS_W 940.0
#define CANVAS_H 880.0
/* Face units to canvas: canvas = face × FACE_SCALE + (FACE_TX, FACE_TY). */
#define FACE_SCALE 1.15
#define FACE_TX (-32.0)
#define FACE_TY (-4.0)
#define LEGEND_X 620.0

#define SKIN DR_FACE_SKIN
#define SKIN_LINE DR_FACE_SKIN_LINE
#define NOT_CONFIGURED "#e4e4e4"
#define TEXT "#1f2421"
#define BOUNDARY "#ffffff"
/* Keep in sync with common/coverage-colour.c and tests/face-map-render.py. */
#define WARNING "#d55e00"

/* The zones' shapes are the shared model's (common/face-geometry.h); their
 * names and labels are dr_face_zones[] of the same index. */
#define ZONE_NAME(zone) (dr_face_zones[(zone) -dr_face_zone_shapes].name)
#define ZONE_LABEL(zone) (dr_face_zones[(zone) -dr_face_zone_shapes].label)

const char *const *
dr_face_map_face_zones (void)
{
  return dr_face_zone_names ();
}

static const DrFaceZoneShape *
find_face_zone (const char *name)
{
  int id = name ? dr_face_zone_lookup (name) : -1;

  return id < 0 ? NULL : &dr_face_zone_shapes[id];
}

gboolean
dr_face_map_is_face_zone (const char *name)
{
  return find_face_zone (name) != NULL;
}

gboolean
dr_face_map_zone_probe (const char *name, double *x, double *y)
{
  const DrFaceZoneShape *zone = find_face_zone (name);

  if (zone == NULL)
    return FALSE;
  *x = zone->probe_x * FACE_SCALE + FACE_TX;
  *y = zone->probe_y * FACE_SCALE + FACE_TY;
  return TRUE;
}

void
dr_face_map_size (double *width, double *height)
{
  *width = CANVAS_W;
  *height = CANVAS_H;
}

void
dr_face_map_colour (double coverage, guint8 rgb[3])
{
  dr_coverage_rgb (coverage, rgb);
}

void
dr_face_map_warning_colour (guint8 rgb[3])
{
  dr_coverage_warning_rgb (rgb);
}

static gboolean
is_warning (const DrFaceMapZone *zone)
{
  return zone != NULL && (zone->over_treated || zone->rolled_excluded);
}

static gboolean
has_mark (const DrFaceMapZone *zone)
{
  return is_warning (zone) || (zone != NULL && zone->pressure_episodes > 0);
}

/* What went wrong in the zone, in words, as the map and its legend say it. */
static void
append_notes (GPtrArray *notes, const DrFaceMapZone *zone)
{
  if (zone == NULL)
    return;
  if (zone->rolled_excluded)
    g_ptr_array_add (notes, g_strdup ("excluded, but rolled"));
  else if (zone->excluded)
    g_ptr_array_add (notes, g_strdup ("excluded"));
  if (zone->over_treated)
    g_ptr_array_add (notes, g_strdup ("over-treated"));
  if (zone->pressure_episodes == 1)
    g_ptr_array_add (notes, g_strdup ("over-pressure"));
  else if (zone->pressure_episodes > 1)
    g_ptr_array_add (notes, g_strdup_printf ("over-pressure ×%u", zone->pressure_episodes));
}

static char *
hex_colour (double coverage)
{
  guint8 rgb[3];

  dr_face_map_colour (coverage, rgb);
  return g_strdup_printf ("#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* "72 %": C locale, no rounding up to 100 % of a zone not fully covered. */
static char *
percent_text (double coverage)
{
  double pct = isfinite (coverage) ? coverage * 100.0 : 0.0;

  if (pct > 99.0 && pct < 100.0)
    pct = 99.0;
  return g_strdup_printf ("%d %%", (int) floor (pct + 0.5));
}

/* "5.6 / 6 passes", or "5.6 passes" when the target is not known. */
static char *
passes_text (double passes, double target)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char tbuf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.1f", isfinite (passes) ? passes : 0.0);
  if (isfinite (target) && target > 0)
    {
      /* Targets are whole numbers in practice; don't print "6.0". */
      g_ascii_formatd (tbuf, sizeof tbuf, target == floor (target) ? "%.0f" : "%.1f", target);
      return g_strdup_printf ("%s / %s passes", buf, tbuf);
    }
  return g_strdup_printf ("%s %s", buf, g_strcmp0 (buf, "1.0") == 0 ? "pass" : "passes");
}

static void
append_num (GString *out, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.2f", value));
}

/* A <text> centred on @x with a white halo so it reads on any fill and
 * over the hatching. */
static void
append_text (GString *out, double x, double y, double size, const char *weight, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  g_string_append (out, "<text x=\"");
  append_num (out, x);
  g_string_append (out, "\" y=\"");
  append_num (out, y);
  g_string_append (out, "\" font-size=\"");
  append_num (out, size);
  g_string_append_printf (out, "\" font-weight=\"%s\" class=\"label\">%s</text>\n", weight,
                          escaped);
}

static const DrFaceMapZone *
find_input (const DrFaceMap *map, const char *name)
{
  for (gsize i = 0; i < map->n_zones; i++)
    if (g_strcmp0 (map->zones[i].name, name) == 0)
      return &map->zones[i];
  return NULL;
}

/* The heading's type size: smaller when a long heading would run off the
 * canvas (about 0.62 em per character of DejaVu Sans Bold). */
static double
heading_size (const char *text)
{
  double chars = (double) g_utf8_strlen (text, -1);

  return MIN (26.0, (CANVAS_W - 60.0) / (MAX (chars, 1.0) * 0.62));
}

static gboolean
has_roller_name (const DrFaceMap *map)
{
  return map->roller_name != NULL && map->roller_name[0] != '\0'
         && g_strcmp0 (map->roller_name, map->roller) != 0;
}

static void
append_header (GString *out, const DrFaceMap *map)
{
  g_autofree char *heading
      = g_strdup_printf ("Face coverage — session %" G_GUINT64_FORMAT "%s", map->session_id,
                         map->in_progress ? " (in progress)" : "");
  g_autofree char *heading_esc = g_markup_escape_text (heading, -1);
  g_autofree char *title = NULL;
  g_autofree char *title_esc = NULL;
  GString *sub = g_string_new (NULL);
  g_autofree char *sub_esc = NULL;

  if (map->date != NULL && map->date[0] != '\0')
    g_string_append (sub, map->date);
  if (has_roller_name (map) && map->roller != NULL && map->roller[0] != '\0')
    g_string_append_printf (sub, "%sroller %s (%s)", sub->len ? " · " : "", map->roller_name,
                            map->roller);
  else if (has_roller_name (map))
    g_string_append_printf (sub, "%sroller %s", sub->len ? " · " : "", map->roller_name);
  else if (map->roller != NULL && map->roller[0] != '\0')
    g_string_append_printf (sub, "%sroller %s", sub->len ? " · " : "", map->roller);
  sub_esc = g_markup_escape_text (sub->str, -1);
  /* The document's title says it all: session, roller, whether it ended. */
  title = sub->len ? g_strdup_printf ("%s, %s", heading, sub->str) : g_strdup (heading);
  title_esc = g_markup_escape_text (title, -1);
  g_string_free (sub, TRUE);

  g_string_append_printf (out,
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                          "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                          "font-family=\"DejaVu Sans, Verdana, sans-serif\">\n"
                          "<title>%s</title>\n",
                          (int) CANVAS_W, (int) CANVAS_H, (int) CANVAS_W, (int) CANVAS_H,
                          title_esc);
  g_string_append (out,
                   "<defs>\n"
                   "<style>\n"
                   "  .label { text-anchor: middle; fill: " TEXT "; stroke: #ffffff; "
                   "stroke-width: 3px; stroke-linejoin: round; paint-order: stroke; "
                   "stroke-opacity: 0.85; }\n"
                   "  .legend { fill: " TEXT "; }\n"
                   "</style>\n"
                   "<clipPath id=\"face\"><path d=\"" DR_FACE_OUTLINE "\"/></clipPath>\n"
                   /* Diagonal lines, 8 units apart, over the zone's own colour. */
                   "<pattern id=\"hatch\" patternUnits=\"userSpaceOnUse\" width=\"8\" height=\"8\" "
                   "patternTransform=\"rotate(45)\">"
                   "<rect x=\"0\" y=\"0\" width=\"3\" height=\"8\" fill=\"#4a3b36\" "
                   "fill-opacity=\"0.4\"/></pattern>\n"
                   /* Dots over the warning colour: over-treated, told apart
                    * from the hatching without looking at hue. */
                   "<pattern id=\"dots\" patternUnits=\"userSpaceOnUse\" width=\"9\" height=\"9\">"
                   "<circle cx=\"4.5\" cy=\"4.5\" r=\"2\" fill=\"" TEXT "\" "
                   "fill-opacity=\"0.55\"/></pattern>\n");
  g_string_append (out, "<linearGradient id=\"scale\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">");
  for (gsize i = 0; i < dr_coverage_n_stops; i++)
    g_string_append_printf (out, "<stop offset=\"%d%%\" stop-color=\"#%02x%02x%02x\"/>",
                            (int) (dr_coverage_stops[i].at * 100), dr_coverage_stops[i].rgb[0],
                            dr_coverage_stops[i].rgb[1], dr_coverage_stops[i].rgb[2]);
  g_string_append (out, "</linearGradient>\n</defs>\n");

  g_string_append_printf (out,
                          "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
                          (int) CANVAS_W, (int) CANVAS_H);
  g_string_append (out, "<text x=\"30\" y=\"46\" font-size=\"");
  append_num (out, heading_size (heading));
  g_string_append_printf (out, "\" font-weight=\"bold\" class=\"legend\">%s</text>\n", heading_esc);
  if (sub_esc[0] != '\0')
    g_string_append_printf (
        out, "<text x=\"30\" y=\"74\" font-size=\"15\" fill=\"#5b605d\">%s</text>\n", sub_esc);
}

/* "#8c786c" or "none". */
static const char *
paint (const char *colour)
{
  return colour ? colour : "none";
}

/* Every part of @kind (common/face-geometry.c), in its style; in a <g>
 * carrying the style when @grouped. */
static void
append_parts (GString *out, DrFacePartKind kind, gboolean grouped)
{
  const DrFacePartStyle *style = dr_face_part_style (kind);
  GString *attrs = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (attrs, " fill=\"%s\"", paint (style->fill));
  if (style->stroke)
    {
      g_string_append_printf (attrs, " stroke=\"%s\" stroke-width=\"%s\"", style->stroke,
                              g_ascii_formatd (buf, sizeof buf, "%g", style->stroke_width));
      if (style->round_cap)
        g_string_append (attrs, " stroke-linecap=\"round\"");
    }
  if (grouped)
    g_string_append_printf (out, "<g%s>\n", attrs->str);
  for (gsize i = 0; i < dr_face_n_parts; i++)
    {
      const DrFacePart *part = &dr_face_parts[i];
      const char *own = grouped ? "" : attrs->str;

      if (part->kind != kind)
        continue;
      if (part->path != NULL)
        g_string_append_printf (out, "<path d=\"%s\"%s/>\n", part->path, own);
      else if (part->rx == part->ry)
        {
          g_string_append (out, "<circle cx=\"");
          g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%g", part->cx));
          g_string_append (out, "\" cy=\"");
          g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%g", part->cy));
          g_string_append (out, "\" r=\"");
          g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%g", part->rx));
          g_string_append_printf (out, "\"%s/>\n", own);
        }
      else
        {
          g_string_append (out, "<ellipse cx=\"");
          g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%g", part->cx));
          g_string_append (out, "\" cy=\"");
          g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%g", part->cy));
          g_string_append (out, "\" rx=\"");
          g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%g", part->rx));
          g_string_append (out, "\" ry=\"");
          g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%g", part->ry));
          g_string_append_printf (out, "\"%s/>\n", own);
        }
    }
  if (grouped)
    g_string_append (out, "</g>\n");
  g_string_free (attrs, TRUE);
}

static void
append_face_background (GString *out)
{
  /* Shoulders, then the neck zone goes over them; ears behind the face. */
  append_parts (out, DR_FACE_PART_SHOULDERS, FALSE);
}

static void
append_zone_fill (GString *out, const DrFaceZoneShape *zone, const DrFaceMapZone *input,
                  gboolean clip)
{
  g_autofree char *fill = input == NULL        ? g_strdup (NOT_CONFIGURED)
                          : is_warning (input) ? g_strdup (WARNING)
                                               : hex_colour (input->coverage);
  const char *clip_attr = clip ? " clip-path=\"url(#face)\"" : "";

  g_string_append_printf (out, "<g id=\"zone-%s\"%s>\n", ZONE_NAME (zone), clip_attr);
  g_string_append_printf (out, "<path class=\"zone\" d=\"%s\" fill=\"%s\"/>\n", zone->path, fill);
  if (input && input->excluded)
    g_string_append_printf (out, "<path class=\"excluded\" d=\"%s\" fill=\"url(#hatch)\"/>\n",
                            zone->path);
  if (input && input->over_treated)
    g_string_append_printf (out, "<path class=\"over-treated\" d=\"%s\" fill=\"url(#dots)\"/>\n",
                            zone->path);
  /* The boundary last, so the hatching stops at it. */
  g_string_append_printf (out,
                          "<path d=\"%s\" fill=\"none\" stroke=\"" BOUNDARY "\" "
                          "stroke-width=\"2.5\"/>\n",
                          zone->path);
  /* Over-pressure: a dashed dark outline over the boundary, whatever the
   * fill. */
  if (input && input->pressure_episodes > 0)
    g_string_append_printf (out,
                            "<path class=\"over-pressure\" d=\"%s\" fill=\"none\" "
                            "stroke=\"" TEXT "\" stroke-width=\"4\" "
                            "stroke-dasharray=\"10 6\"/>\n",
                            zone->path);
  g_string_append (out, "</g>\n");
}

static void
append_features (GString *out)
{
  append_parts (out, DR_FACE_PART_EYE, TRUE);
  append_parts (out, DR_FACE_PART_PUPIL, FALSE);
  append_parts (out, DR_FACE_PART_BROW, TRUE);
  append_parts (out, DR_FACE_PART_NOSTRIL, TRUE);
  append_parts (out, DR_FACE_PART_MOUTH, FALSE);
  append_parts (out, DR_FACE_PART_LIP_LINE, FALSE);
  /* the outline over the clipped zones' edges */
  g_string_append (out, "<path d=\"" DR_FACE_OUTLINE "\" fill=\"none\" stroke=\"" SKIN_LINE
                        "\" stroke-width=\"2.5\"/>\n");
  append_parts (out, DR_FACE_PART_HAIR, FALSE);
}

/* The warning mark: a white triangle with "!", centred on (@x, @y), @size
 * units high; black on white reads on any fill and needs no hue. */
static void
append_mark (GString *out, double x, double y, double size)
{
  double h = size, w = size * 1.15;

  g_string_append (out, "<g class=\"mark\"><path d=\"M ");
  append_num (out, x);
  g_string_append_c (out, ' ');
  append_num (out, y - h / 2);
  g_string_append (out, " L ");
  append_num (out, x + w / 2);
  g_string_append_c (out, ' ');
  append_num (out, y + h / 2);
  g_string_append (out, " L ");
  append_num (out, x - w / 2);
  g_string_append_c (out, ' ');
  append_num (out, y + h / 2);
  g_string_append (out, " Z\" fill=\"#ffffff\" stroke=\"" TEXT "\" stroke-width=\"1.6\" "
                        "stroke-linejoin=\"round\"/><text x=\"");
  append_num (out, x);
  g_string_append (out, "\" y=\"");
  append_num (out, y + h * 0.42);
  g_string_append (out, "\" font-size=\"");
  append_num (out, h * 0.72);
  g_string_append (out, "\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"" TEXT
                        "\">!</text></g>\n");
}

static void
append_zone_label (GString *out, const DrFaceZoneShape *zone, const DrFaceMapZone *input)
{
  g_autofree char *pct = input ? percent_text (input->coverage) : g_strdup ("—");
  g_autofree char *passes
      = input ? passes_text (input->passes, input->target_passes) : g_strdup ("not configured");
  g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
  double x = zone->label_x, y = zone->label_y;

  append_notes (notes, input);
  if (has_mark (input))
    append_mark (out, zone->mark_x, zone->mark_y, zone->compact ? 12 : 20);
  if (zone->compact)
    {
      /* Nose and upper lip are small: smaller type, tighter lines. */
      double top = y - 8 - 4 * notes->len;
      append_text (out, x, top, 10, "normal", ZONE_LABEL (zone));
      append_text (out, x, top + 13, 12.5, "bold", pct);
      append_text (out, x, top + 24, 9.5, "normal", passes);
      for (guint i = 0; i < notes->len; i++)
        append_text (out, x, top + 35 + 11 * i, 9.5, "bold", g_ptr_array_index (notes, i));
      return;
    }
  /* More than one note: the block moves up to stay in the zone. */
  if (notes->len > 1)
    y -= 8 * (notes->len - 1);
  append_text (out, x, y - 14, 13, notes->len ? "bold" : "normal", ZONE_LABEL (zone));
  append_text (out, x, y + 6, 19, "bold", pct);
  append_text (out, x, y + 24, 12, "normal", passes);
  for (guint i = 0; i < notes->len; i++)
    append_text (out, x, y + 42 + 16 * i, 12, "bold", g_ptr_array_index (notes, i));
}

static void
append_swatch (GString *out, double x, double y, const char *fill, const char *pattern)
{
  g_string_append_printf (out,
                          "<rect x=\"%d\" y=\"%d\" width=\"22\" height=\"16\" fill=\"%s\" "
                          "stroke=\"" SKIN_LINE "\" stroke-width=\"1\"/>\n",
                          (int) x, (int) y, fill);
  if (pattern != NULL)
    g_string_append_printf (out,
                            "<rect x=\"%d\" y=\"%d\" width=\"22\" height=\"16\" "
                            "fill=\"url(#%s)\"/>\n",
                            (int) x, (int) y, pattern);
}

/* The swatch of a zone beside the face: its fill and patterns as on the
 * face. */
static void
append_zone_swatch (GString *out, double x, double y, const DrFaceMapZone *zone)
{
  g_autofree char *fill = is_warning (zone) ? g_strdup (WARNING) : hex_colour (zone->coverage);

  append_swatch (out, x, y, fill, zone->excluded ? "hatch" : NULL);
  if (zone->over_treated)
    append_swatch (out, x, y, "none", "dots");
  if (zone->pressure_episodes > 0)
    g_string_append_printf (out,
                            "<rect x=\"%d\" y=\"%d\" width=\"22\" height=\"16\" fill=\"none\" "
                            "stroke=\"" TEXT "\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n",
                            (int) x, (int) y);
}

static void
append_legend (GString *out)
{
  const double x = LEGEND_X, y = 104, w = 280;

  g_string_append_printf (out,
                          "<g id=\"legend\" class=\"legend\">\n"
                          "<text x=\"%d\" y=\"%d\" font-size=\"15\" font-weight=\"bold\">"
                          "Coverage of each zone</text>\n"
                          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\" fill=\"url(#scale)\" "
                          "stroke=\"" SKIN_LINE "\" stroke-width=\"1\"/>\n",
                          (int) x, (int) y, (int) x, (int) y + 12, (int) w);
  for (int pct = 0; pct <= 100; pct += 25)
    {
      double tx = x + w * pct / 100.0;
      g_string_append_printf (out,
                              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" SKIN_LINE
                              "\" stroke-width=\"1\"/>\n"
                              "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">"
                              "%d %%</text>\n",
                              (int) tx, (int) y + 30, (int) tx, (int) y + 35, (int) tx,
                              (int) y + 49, pct);
    }
  g_string_append_printf (out,
                          "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#5b605d\">"
                          "0 %%: not rolled · 100 %%: target passes reached</text>\n",
                          (int) x, (int) y + 68);
  append_swatch (out, x, y + 80, WARNING, "dots");
  append_mark (out, x + 40, y + 88, 14);
  g_string_append_printf (out,
                          "<text x=\"%d\" y=\"%d\" font-size=\"13\">over-treated (dotted)</text>\n",
                          (int) x + 54, (int) y + 93);
  append_swatch (out, x, y + 104, WARNING, "hatch");
  append_mark (out, x + 40, y + 112, 14);
  g_string_append_printf (out,
                          "<text x=\"%d\" y=\"%d\" font-size=\"13\">excluded, but rolled</text>\n",
                          (int) x + 54, (int) y + 117);
  append_swatch (out, x, y + 128, "#ffffff", NULL);
  g_string_append_printf (out,
                          "<rect x=\"%d\" y=\"%d\" width=\"22\" height=\"16\" fill=\"none\" "
                          "stroke=\"" TEXT "\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n",
                          (int) x, (int) y + 128);
  append_mark (out, x + 40, y + 136, 14);
  g_string_append_printf (out,
                          "<text x=\"%d\" y=\"%d\" font-size=\"13\">over-pressure (dashed outline)"
                          "</text>\n",
                          (int) x + 54, (int) y + 141);
  append_swatch (out, x, y + 152, NOT_CONFIGURED, "hatch");
  g_string_append_printf (out,
                          "<text x=\"%d\" y=\"%d\" font-size=\"13\">excluded zone (hatched): "
                          "do not roll</text>\n",
                          (int) x + 32, (int) y + 165);
  append_swatch (out, x, y + 176, NOT_CONFIGURED, NULL);
  g_string_append_printf (out,
                          "<text x=\"%d\" y=\"%d\" font-size=\"13\">not a configured zone</text>\n",
                          (int) x + 32, (int) y + 189);
  g_string_append_printf (out,
                          "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#5b605d\">"
                          "Front view: the person’s left is on the right.</text>\n"
                          "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#5b605d\">"
                          "In each zone: coverage, passes / target passes.</text>\n"
                          "</g>\n",
                          (int) x, (int) y + 212, (int) x, (int) y + 228);
}

static void
append_other_zones (GString *out, const DrFaceMap *map)
{
  const double x = LEGEND_X;
  double y = 358;
  guint n = 0;

  g_string_append_printf (out,
                          "<g id=\"other-zones\" class=\"legend\">\n"
                          "<text x=\"%d\" y=\"%d\" font-size=\"15\" font-weight=\"bold\">"
                          "Zones not on the face</text>\n",
                          (int) x, (int) y);
  y += 14;
  for (gsize i = 0; i < map->n_zones; i++)
    {
      const DrFaceMapZone *zone = &map->zones[i];
      g_autofree char *name = NULL;
      g_autofree char *pct = NULL;
      g_autofree char *passes = NULL;
      g_autofree char *line = NULL;

      if (zone->name == NULL || dr_face_map_is_face_zone (zone->name))
        continue;
      /* Keep inside the canvas: past 12 rows, say how many more. */
      if (n == 12)
        {
          gsize rest = 0;
          for (gsize j = i; j < map->n_zones; j++)
            rest += map->zones[j].name && !dr_face_map_is_face_zone (map->zones[j].name);
          g_string_append_printf (out,
                                  "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#5b605d\">"
                                  "… and %" G_GSIZE_FORMAT " more</text>\n",
                                  (int) x, (int) y + 13, rest);
          break;
        }
      name = g_markup_escape_text (zone->name, -1);
      if (g_strcmp0 (zone->name, "unassigned") == 0)
        {
          /* Contact no zone could be found for has no area, hence no
           * coverage or passes: only the area rolled means anything. */
          char buf[G_ASCII_DTOSTR_BUF_SIZE];
          g_ascii_formatd (buf, sizeof buf, "%.1f",
                           isfinite (zone->rolled_cm2) ? zone->rolled_cm2 : 0);
          append_swatch (out, x, y, "#ffffff", NULL);
          line = g_strdup_printf ("%s cm² rolled where no zone was known", buf);
        }
      else
        {
          g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
          GString *text;

          pct = percent_text (zone->coverage);
          passes = passes_text (zone->passes, zone->target_passes);
          append_zone_swatch (out, x, y, zone);
          if (has_mark (zone))
            append_mark (out, x + 11, y - 3, 11);
          append_notes (notes, zone);
          text = g_string_new (NULL);
          g_string_append_printf (text, "%s · %s", pct, passes);
          for (guint k = 0; k < notes->len; k++)
            g_string_append_printf (text, " · %s", (const char *) g_ptr_array_index (notes, k));
          line = g_markup_escape_text (text->str, -1);
          g_string_free (text, TRUE);
        }
      /* Two lines: a name may be 31 characters long. */
      g_string_append_printf (
          out,
          "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"bold\">%s</text>\n"
          "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n",
          (int) x + 32, (int) y + 13, name, (int) x + 32, (int) y + 29, line);
      y += 40;
      n++;
    }
  if (n == 0)
    g_string_append_printf (out,
                            "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#5b605d\">"
                            "none</text>\n",
                            (int) x, (int) y + 13);
  g_string_append (out, "</g>\n");
}

char *
dr_face_map_svg (const DrFaceMap *map)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (map != NULL, NULL);

  append_header (out, map);
  g_string_append (out, "<g id=\"face\" transform=\"translate(");
  append_num (out, FACE_TX);
  g_string_append_c (out, ' ');
  append_num (out, FACE_TY);
  g_string_append (out, ") scale(");
  append_num (out, FACE_SCALE);
  g_string_append (out, ")\">\n");
  /* The drawing order of common/face-geometry.h. */
  append_face_background (out);
  for (gsize i = 0; i < DR_N_FACE_ZONES; i++)
    if (!dr_face_zone_shapes[i].clip_to_face)
      append_zone_fill (out, &dr_face_zone_shapes[i],
                        find_input (map, ZONE_NAME (&dr_face_zone_shapes[i])), FALSE);
  append_parts (out, DR_FACE_PART_EAR, TRUE);
  g_string_append (out, "<path d=\"" DR_FACE_OUTLINE "\" fill=\"" SKIN "\"/>\n");
  for (gsize i = 0; i < DR_N_FACE_ZONES; i++)
    if (dr_face_zone_shapes[i].clip_to_face)
      append_zone_fill (out, &dr_face_zone_shapes[i],
                        find_input (map, ZONE_NAME (&dr_face_zone_shapes[i])), TRUE);
  append_features (out);
  for (gsize i = 0; i < DR_N_FACE_ZONES; i++)
    append_zone_label (out, &dr_face_zone_shapes[i],
                       find_input (map, ZONE_NAME (&dr_face_zone_shapes[i])));
  g_string_append (out, "</g>\n");
  append_legend (out);
  append_other_zones (out, map);
  g_string_append (out, "</svg>\n");
  return g_string_free (out, FALSE);
}
