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

#define SKIN "#f5f0eb"
#define SKIN_LINE "#8c786c"
#define HAIR "#9a8878"
#define NOT_CONFIGURED "#e4e4e4"
#define TEXT "#1f2421"
#define BOUNDARY "#ffffff"
/* Keep in sync with face-map.h and tests/face-map-render.py. */
#define WARNING "#d55e00"
static const guint8 warning_rgb[3] = { 0xd5, 0x5e, 0x00 };

typedef struct
{
  double at;
  guint8 rgb[3];
} ScaleStop;

/* Keep in sync with face-map.h and tests/face-map-render.py. */
static const ScaleStop scale[] = {
  { 0.0, { 0xf9, 0xec, 0x9c } },  { 0.25, { 0x9f, 0xd6, 0xa8 } }, { 0.5, { 0x41, 0xb6, 0xc4 } },
  { 0.75, { 0x2c, 0x7f, 0xb8 } }, { 1.0, { 0x2a, 0x3d, 0x8f } },
};

/* The drawing of one zone; its name and label are dr_face_zones[] of the
 * same index (common/zones.h). */
typedef struct
{
  const char *path; /* region, clipped by the face outline */
  double label_x, label_y;
  double probe_x, probe_y;
  double mark_x, mark_y; /* the warning mark's centre, clear of the label */
  gboolean compact;      /* small region: one line of numbers, smaller type */
} FaceZone;

#define FACE_OUTLINE                                                                               \
  "M 290 110 C 400 110 470 190 470 320 C 470 420 445 490 395 540 C 360 575 325 592 290 592 "       \
  "C 255 592 220 575 185 540 C 135 490 110 420 110 320 C 110 190 180 110 290 110 Z"

/* The person's right cheek is on the picture's left (front view). */
static const FaceZone face_zones[DR_N_FACE_ZONES] = {
  /* forehead */
  { "M 80 90 H 500 V 250 C 420 262 360 254 290 254 C 220 254 160 262 80 250 Z", 290, 205, 175, 232,
    385, 200, FALSE },
  /* left-cheek */
  { "M 500 322 H 318 C 324 345 332 372 334 392 C 344 410 354 432 360 462 "
    "C 365 495 380 530 395 560 L 500 560 Z",
    410, 418, 410, 350, 410, 382, FALSE },
  /* right-cheek */
  { "M 80 322 H 262 C 256 345 248 372 246 392 C 236 410 226 432 220 462 "
    "C 215 495 200 530 185 560 L 80 560 Z",
    170, 418, 170, 350, 170, 382, FALSE },
  /* nose */
  { "M 272 262 C 270 296 264 326 254 356 C 244 378 252 392 272 392 L 308 392 "
    "C 328 392 336 378 326 356 C 316 326 310 296 308 262 Z",
    290, 332, 290, 296, 290, 274, TRUE },
  /* upper-lip */
  { "M 220 462 C 228 424 252 396 272 392 L 308 392 C 328 396 352 424 360 462 "
    "C 334 454 310 456 290 460 C 270 456 246 454 220 462 Z",
    290, 418, 246, 446, 338, 450, TRUE },
  /* chin */
  { "M 185 560 C 205 527 216 505 224 488 C 250 500 330 500 356 488 "
    "C 364 505 375 527 395 560 L 395 640 L 185 640 Z",
    290, 525, 290, 575, 236, 528, FALSE },
  /* neck */
  { "M 212 500 L 368 500 L 372 660 C 376 700 400 715 430 728 L 150 728 "
    "C 180 715 204 700 208 660 Z",
    290, 655, 235, 700, 345, 700, FALSE },
};

#define ZONE_NAME(zone) (dr_face_zones[(zone) -face_zones].name)
#define ZONE_LABEL(zone) (dr_face_zones[(zone) -face_zones].label)

const char *const *
dr_face_map_face_zones (void)
{
  return dr_face_zone_names ();
}

static const FaceZone *
find_face_zone (const char *name)
{
  int id = name ? dr_face_zone_lookup (name) : -1;

  return id < 0 ? NULL : &face_zones[id];
}

gboolean
dr_face_map_is_face_zone (const char *name)
{
  return find_face_zone (name) != NULL;
}

gboolean
dr_face_map_zone_probe (const char *name, double *x, double *y)
{
  const FaceZone *zone = find_face_zone (name);

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
  double c = isfinite (coverage) ? CLAMP (coverage, 0.0, 1.0) : 0.0;
  gsize i = 0;

  while (i + 2 < G_N_ELEMENTS (scale) && c > scale[i + 1].at)
    i++;
  {
    const ScaleStop *a = &scale[i], *b = &scale[i + 1];
    double t = (c - a->at) / (b->at - a->at);

    for (int k = 0; k < 3; k++)
      rgb[k] = (guint8) lround (a->rgb[k] + t * (b->rgb[k] - a->rgb[k]));
  }
}

void
dr_face_map_warning_colour (guint8 rgb[3])
{
  memcpy (rgb, warning_rgb, 3);
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
                   "<clipPath id=\"face\"><path d=\"" FACE_OUTLINE "\"/></clipPath>\n"
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
  for (gsize i = 0; i < G_N_ELEMENTS (scale); i++)
    g_string_append_printf (out, "<stop offset=\"%d%%\" stop-color=\"#%02x%02x%02x\"/>",
                            (int) (scale[i].at * 100), scale[i].rgb[0], scale[i].rgb[1],
                            scale[i].rgb[2]);
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

static void
append_face_background (GString *out)
{
  /* Shoulders, then the neck zone goes over them; ears behind the face. */
  g_string_append (
      out, "<path d=\"M 50 770 C 60 744 110 726 190 722 L 390 722 C 470 726 520 744 530 770 Z\" "
           "fill=\"#dfe3e8\" stroke=\"" SKIN_LINE "\" stroke-width=\"1.5\"/>\n");
}

static void
append_zone_fill (GString *out, const FaceZone *zone, const DrFaceMapZone *input, gboolean clip)
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
  g_string_append (
      out,
      /* eyes */
      "<g fill=\"#ffffff\" stroke=\"" SKIN_LINE "\" stroke-width=\"2\">\n"
      "<path d=\"M 183 294 C 200 278 232 278 247 294 C 232 308 200 308 183 294 Z\"/>\n"
      "<path d=\"M 333 294 C 348 278 380 278 397 294 C 380 308 348 308 333 294 Z\"/>\n"
      "</g>\n"
      "<circle cx=\"215\" cy=\"293\" r=\"8\" fill=\"#6b5a4e\"/>\n"
      "<circle cx=\"365\" cy=\"293\" r=\"8\" fill=\"#6b5a4e\"/>\n"
      /* brows */
      "<g fill=\"none\" stroke=\"" HAIR "\" stroke-width=\"5\" stroke-linecap=\"round\">\n"
      "<path d=\"M 178 272 C 198 260 228 258 252 266\"/>\n"
      "<path d=\"M 328 266 C 352 258 382 260 402 272\"/>\n"
      "</g>\n"
      /* nostrils */
      "<g fill=\"none\" stroke=\"" SKIN_LINE "\" stroke-width=\"1.5\" stroke-linecap=\"round\">\n"
      "<path d=\"M 266 400 C 270 406 276 407 280 404\"/>\n"
      "<path d=\"M 314 400 C 310 406 304 407 300 404\"/>\n"
      "</g>\n"
      /* mouth */
      "<path d=\"M 238 472 C 260 458 280 462 290 466 C 300 462 320 458 342 472 "
      "C 322 492 258 492 238 472 Z\" fill=\"#e8cfc6\" stroke=\"" SKIN_LINE
      "\" stroke-width=\"2\"/>\n"
      "<path d=\"M 240 472 C 270 476 310 476 340 472\" fill=\"none\" stroke=\"" SKIN_LINE "\" "
      "stroke-width=\"1.5\"/>\n"
      /* the outline over the clipped zones' edges */
      "<path d=\"" FACE_OUTLINE "\" fill=\"none\" stroke=\"" SKIN_LINE "\" stroke-width=\"2.5\"/>\n"
      /* hair over the top of the head, hairline above the forehead */
      "<path d=\"M 104 336 C 92 170 178 84 290 84 C 402 84 488 170 476 336 "
      "C 468 270 452 226 418 202 C 380 180 340 174 290 174 C 240 174 200 180 162 202 "
      "C 128 226 112 270 104 336 Z\" fill=\"" HAIR "\"/>\n");
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
append_zone_label (GString *out, const FaceZone *zone, const DrFaceMapZone *input)
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
  const FaceZone *neck = find_face_zone ("neck");

  g_return_val_if_fail (map != NULL, NULL);

  append_header (out, map);
  g_string_append (out, "<g id=\"face\" transform=\"translate(");
  append_num (out, FACE_TX);
  g_string_append_c (out, ' ');
  append_num (out, FACE_TY);
  g_string_append (out, ") scale(");
  append_num (out, FACE_SCALE);
  g_string_append (out, ")\">\n");
  append_face_background (out);
  /* The neck is not clipped by the face: it goes on below it. */
  append_zone_fill (out, neck, find_input (map, "neck"), FALSE);
  g_string_append (out, "<g fill=\"" SKIN "\" stroke=\"" SKIN_LINE "\" stroke-width=\"2\">\n"
                        "<ellipse cx=\"110\" cy=\"345\" rx=\"20\" ry=\"44\"/>\n"
                        "<ellipse cx=\"470\" cy=\"345\" rx=\"20\" ry=\"44\"/>\n"
                        "</g>\n"
                        "<path d=\"" FACE_OUTLINE "\" fill=\"" SKIN "\"/>\n");
  for (gsize i = 0; i < G_N_ELEMENTS (face_zones); i++)
    if (&face_zones[i] != neck)
      append_zone_fill (out, &face_zones[i], find_input (map, ZONE_NAME (&face_zones[i])), TRUE);
  append_features (out);
  for (gsize i = 0; i < G_N_ELEMENTS (face_zones); i++)
    append_zone_label (out, &face_zones[i], find_input (map, ZONE_NAME (&face_zones[i])));
  g_string_append (out, "</g>\n");
  append_legend (out);
  append_other_zones (out, map);
  g_string_append (out, "</svg>\n");
  return g_string_free (out, FALSE);
}
