/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-face-map.c: the face coverage map as a document: the colour scale,
 * each zone's fill, hatching of excluded zones, the numbers in each zone,
 * zones listed beside the face, escaping, and that the SVG is well-formed
 * XML; the warnings (over-treated, excluded but rolled, over-pressure),
 * the title (roller name, in progress), and the scale and warning colour
 * as an eye without red-green vision sees them (Machado et al. 2009's
 * deuteranopia and protanopia matrices, severity 1, on linear sRGB; CIE
 * L* and ΔE 1976). How it looks when rendered is
 * tests/face-map-render.py's job.
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "face-map.h"

/* ---- a small SVG reader on GMarkup --------------------------------------- */

typedef struct
{
  GPtrArray *group_stack;   /* id of each enclosing <g>, "" for none */
  GHashTable *zone_fill;    /* zone → fill of its <path class="zone"> */
  GHashTable *zone_hatched; /* zone → TRUE when a path in it is url(#hatch) */
  GHashTable *zone_dotted;  /* zone → TRUE when a path in it is url(#dots) */
  GHashTable *zone_dashed;  /* zone → TRUE when it has a class="over-pressure" outline */
  GHashTable *group_marks;  /* group id ("face", "legend", ...) → number of warning marks */
  GPtrArray *texts;         /* every <text>'s content, with the id of its group */
  GString *text;            /* inside a <text> */
  int text_depth;
  gboolean has_hatch_pattern;
  gboolean has_title;
  char *root;
} Doc;

static const char *
current_group (Doc *doc)
{
  for (guint i = doc->group_stack->len; i > 0; i--)
    {
      const char *id = g_ptr_array_index (doc->group_stack, i - 1);
      if (id[0] != '\0')
        return id;
    }
  return "";
}

static const char *
attr (const char **names, const char **values, const char *name)
{
  for (int i = 0; names[i] != NULL; i++)
    if (g_str_equal (names[i], name))
      return values[i];
  return NULL;
}

static void
start_element (GMarkupParseContext *context, const char *element, const char **names,
               const char **values, gpointer user_data, GError **error)
{
  Doc *doc = user_data;
  const char *group = current_group (doc);

  if (doc->root == NULL)
    doc->root = g_strdup (element);
  if (g_str_equal (element, "g"))
    {
      const char *id = attr (names, values, "id");
      if (g_strcmp0 (attr (names, values, "class"), "mark") == 0)
        g_hash_table_insert (
            doc->group_marks, g_strdup (group),
            GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (doc->group_marks, group))
                              + 1));
      g_ptr_array_add (doc->group_stack, g_strdup (id ? id : ""));
    }
  else if (g_str_equal (element, "path") && g_str_has_prefix (group, "zone-"))
    {
      const char *cls = attr (names, values, "class");
      const char *fill = attr (names, values, "fill");
      if (g_strcmp0 (cls, "zone") == 0)
        g_hash_table_insert (doc->zone_fill, g_strdup (group + 5), g_strdup (fill));
      if (g_strcmp0 (fill, "url(#hatch)") == 0)
        g_hash_table_add (doc->zone_hatched, g_strdup (group + 5));
      if (g_strcmp0 (fill, "url(#dots)") == 0)
        g_hash_table_add (doc->zone_dotted, g_strdup (group + 5));
      if (g_strcmp0 (cls, "over-pressure") == 0 && attr (names, values, "stroke-dasharray"))
        g_hash_table_add (doc->zone_dashed, g_strdup (group + 5));
    }
  else if (g_str_equal (element, "pattern") && g_strcmp0 (attr (names, values, "id"), "hatch") == 0)
    doc->has_hatch_pattern = TRUE;
  else if (g_str_equal (element, "title"))
    doc->has_title = TRUE;
  if (g_str_equal (element, "text"))
    {
      doc->text_depth++;
      g_string_truncate (doc->text, 0);
    }
}

static void
end_element (GMarkupParseContext *context, const char *element, gpointer user_data, GError **error)
{
  Doc *doc = user_data;

  if (g_str_equal (element, "g"))
    g_ptr_array_set_size (doc->group_stack, doc->group_stack->len - 1);
  else if (g_str_equal (element, "text"))
    {
      doc->text_depth--;
      g_ptr_array_add (doc->texts, g_strdup_printf ("%s|%s", current_group (doc), doc->text->str));
    }
}

static void
text_cb (GMarkupParseContext *context, const char *text, gsize len, gpointer user_data,
         GError **error)
{
  Doc *doc = user_data;

  if (doc->text_depth > 0)
    g_string_append_len (doc->text, text, (gssize) len);
}

static void
doc_free (Doc *doc)
{
  g_ptr_array_unref (doc->group_stack);
  g_hash_table_unref (doc->zone_fill);
  g_hash_table_unref (doc->zone_hatched);
  g_hash_table_unref (doc->zone_dotted);
  g_hash_table_unref (doc->zone_dashed);
  g_hash_table_unref (doc->group_marks);
  g_ptr_array_unref (doc->texts);
  g_string_free (doc->text, TRUE);
  g_free (doc->root);
  g_free (doc);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Doc, doc_free)

static Doc *
parse_svg (const char *svg)
{
  static const GMarkupParser parser = { start_element, end_element, text_cb, NULL, NULL };
  Doc *doc = g_new0 (Doc, 1);
  g_autoptr (GError) error = NULL;
  GMarkupParseContext *context;
  const char *body = svg;

  doc->group_stack = g_ptr_array_new_with_free_func (g_free);
  doc->zone_fill = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  doc->zone_hatched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  doc->zone_dotted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  doc->zone_dashed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  doc->group_marks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  doc->texts = g_ptr_array_new_with_free_func (g_free);
  doc->text = g_string_new (NULL);

  /* GMarkup does not take the XML declaration; it must be there, first. */
  g_assert_true (g_str_has_prefix (svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
  body = strchr (svg, '\n') + 1;
  g_assert_true (g_utf8_validate (svg, -1, NULL));

  context = g_markup_parse_context_new (&parser, G_MARKUP_TREAT_CDATA_AS_TEXT, doc, NULL);
  g_markup_parse_context_parse (context, body, -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);
  g_markup_parse_context_free (context);
  g_assert_cmpstr (doc->root, ==, "svg");
  g_assert_cmpuint (doc->group_stack->len, ==, 0);
  return doc;
}

static gboolean
has_text (Doc *doc, const char *group, const char *text)
{
  g_autofree char *want = g_strdup_printf ("%s|%s", group, text);

  for (guint i = 0; i < doc->texts->len; i++)
    if (g_str_equal (g_ptr_array_index (doc->texts, i), want))
      return TRUE;
  return FALSE;
}

static gboolean
has_text_containing (Doc *doc, const char *group, const char *needle)
{
  g_autofree char *prefix = g_strdup_printf ("%s|", group);

  for (guint i = 0; i < doc->texts->len; i++)
    {
      const char *t = g_ptr_array_index (doc->texts, i);
      if (g_str_has_prefix (t, prefix) && strstr (t, needle) != NULL)
        return TRUE;
    }
  return FALSE;
}

static char *
hex (double coverage)
{
  guint8 rgb[3];

  dr_face_map_colour (coverage, rgb);
  return g_strdup_printf ("#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* ---- the tests ------------------------------------------------------------ */

static void
assert_colour (double coverage, guint8 r, guint8 g, guint8 b)
{
  guint8 rgb[3];

  dr_face_map_colour (coverage, rgb);
  g_assert_cmpuint (rgb[0], ==, r);
  g_assert_cmpuint (rgb[1], ==, g);
  g_assert_cmpuint (rgb[2], ==, b);
}

static void
test_colour_scale (void)
{
  /* The documented stops (face-map.h, and the legend). */
  assert_colour (0.0, 0xf9, 0xec, 0x9c);
  assert_colour (0.25, 0x9f, 0xd6, 0xa8);
  assert_colour (0.5, 0x41, 0xb6, 0xc4);
  assert_colour (0.75, 0x2c, 0x7f, 0xb8);
  assert_colour (1.0, 0x2a, 0x3d, 0x8f);
  /* Halfway between stops, rounded. */
  assert_colour (0.125, 0xcc, 0xe1, 0xa2);
  assert_colour (0.625, 0x37, 0x9b, 0xbe);
  /* Clamped, and no colour from nonsense. */
  assert_colour (-0.5, 0xf9, 0xec, 0x9c);
  assert_colour (1.7, 0x2a, 0x3d, 0x8f);
  assert_colour (NAN, 0xf9, 0xec, 0x9c);
  assert_colour (INFINITY, 0xf9, 0xec, 0x9c);
  {
    guint8 w[3];
    dr_face_map_warning_colour (w);
    g_assert_cmpuint (w[0], ==, 0xd5);
    g_assert_cmpuint (w[1], ==, 0x5e);
    g_assert_cmpuint (w[2], ==, 0x00);
  }
}

/* ---- colour vision -------------------------------------------------------- */

typedef enum
{
  VISION_NORMAL,
  VISION_DEUTERANOPIA,
  VISION_PROTANOPIA,
} Vision;

static const char *const vision_names[] = { "normal", "deuteranopia", "protanopia" };

/* Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB. */
static const double machado[3][3][3] = {
  { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } },
  { { 0.367322, 0.860646, -0.227968 },
    { 0.280085, 0.672501, 0.047413 },
    { -0.011820, 0.042940, 0.968881 } },
  { { 0.152286, 1.052583, -0.204868 },
    { 0.114503, 0.786281, 0.099216 },
    { -0.003882, -0.048116, 1.051998 } },
};

static double
srgb_to_linear (guint8 c)
{
  double v = c / 255.0;
  return v <= 0.04045 ? v / 12.92 : pow ((v + 0.055) / 1.055, 2.4);
}

/* CIE L*a*b* (D65) of @rgb as seen with @vision. */
static void
seen_lab (const guint8 rgb[3], Vision vision, double lab[3])
{
  double lin[3], sim[3], xyz[3], f[3];
  static const double white[3] = { 0.95047, 1.0, 1.08883 };

  for (int i = 0; i < 3; i++)
    lin[i] = srgb_to_linear (rgb[i]);
  for (int i = 0; i < 3; i++)
    sim[i] = CLAMP (machado[vision][i][0] * lin[0] + machado[vision][i][1] * lin[1]
                        + machado[vision][i][2] * lin[2],
                    0.0, 1.0);
  xyz[0] = 0.4124 * sim[0] + 0.3576 * sim[1] + 0.1805 * sim[2];
  xyz[1] = 0.2126 * sim[0] + 0.7152 * sim[1] + 0.0722 * sim[2];
  xyz[2] = 0.0193 * sim[0] + 0.1192 * sim[1] + 0.9505 * sim[2];
  for (int i = 0; i < 3; i++)
    {
      double t = xyz[i] / white[i];
      f[i] = t > 216.0 / 24389.0 ? cbrt (t) : (24389.0 / 27.0 * t + 16.0) / 116.0;
    }
  lab[0] = 116.0 * f[1] - 16.0;
  lab[1] = 500.0 * (f[0] - f[1]);
  lab[2] = 200.0 * (f[1] - f[2]);
}

static double
delta_e (const guint8 a[3], const guint8 b[3], Vision vision)
{
  double la[3], lb[3];

  seen_lab (a, vision, la);
  seen_lab (b, vision, lb);
  return sqrt ((la[0] - lb[0]) * (la[0] - lb[0]) + (la[1] - lb[1]) * (la[1] - lb[1])
               + (la[2] - lb[2]) * (la[2] - lb[2]));
}

static double
lightness (double coverage, Vision vision)
{
  guint8 rgb[3];
  double lab[3];

  dr_face_map_colour (coverage, rgb);
  seen_lab (rgb, vision, lab);
  return lab[0];
}

/* The stated minimums (face-map.h): every 10 % of coverage at least this
 * much darker, with any of the three visions. */
#define MIN_STEP_L 3.5
/* The warning colour at least this far from every scale colour and from
 * the grey of a zone that is not configured. */
#define MIN_WARNING_DELTA_E 30.0

static void
test_scale_lightness_steps (void)
{
  for (Vision v = VISION_NORMAL; v <= VISION_PROTANOPIA; v++)
    {
      /* Each step of the legend's ticks and each tenth: darker by at
       * least MIN_STEP_L ... */
      for (int i = 0; i < 10; i++)
        {
          double a = lightness (i / 10.0, v), b = lightness ((i + 1) / 10.0, v);
          if (a - b < MIN_STEP_L)
            g_error ("%s: %d %% → %d %%: L* %.1f → %.1f, less than %.1f apart", vision_names[v],
                     i * 10, (i + 1) * 10, a, b, MIN_STEP_L);
        }
      /* ... and every 1 % darker than the one before: the order never
       * turns, so lightness alone reads the scale. */
      for (int i = 0; i < 100; i++)
        g_assert_cmpfloat (lightness ((i + 1) / 100.0, v), <, lightness (i / 100.0, v));
      /* The stops in the legend are far apart. */
      g_assert_cmpfloat (lightness (0.0, v) - lightness (1.0, v), >, 50.0);
    }
}

static void
test_warning_distinct (void)
{
  static const guint8 grey[3] = { 0xe4, 0xe4, 0xe4 };
  guint8 warning[3];

  dr_face_map_warning_colour (warning);
  for (Vision v = VISION_NORMAL; v <= VISION_PROTANOPIA; v++)
    {
      for (int i = 0; i <= 100; i++)
        {
          guint8 rgb[3];
          double d;

          dr_face_map_colour (i / 100.0, rgb);
          d = delta_e (warning, rgb, v);
          if (d < MIN_WARNING_DELTA_E)
            g_error ("%s: the warning colour is ΔE %.1f from %d %% of the scale", vision_names[v],
                     d, i);
        }
      g_assert_cmpfloat (delta_e (warning, grey, v), >=, MIN_WARNING_DELTA_E);
    }
}

static const DrFaceMapZone all_zones[] = {
  { "forehead", 0.92, 5.5, 6, 55.2, FALSE },  { "left-cheek", 0.71, 4.3, 6, 40, FALSE },
  { "right-cheek", 0.45, 2.7, 6, 27, FALSE }, { "nose", 0.15, 0.9, 6, 2, FALSE },
  { "upper-lip", 0.0, 0.0, 6, 0, TRUE },      { "chin", 1.0, 6.4, 6, 20, FALSE },
  { "neck", 0.3, 1.8, 6, 50, FALSE },         { "temple", 0.55, 3.3, 6, 10, FALSE },
  { "unassigned", 0.0, 0.0, 0, 12.4, FALSE },
};

static void
test_zone_fills (void)
{
  DrFaceMap map
      = { 12, "2024-05-14 08:30", "AA:BB:CC:DD:EE:01", all_zones, G_N_ELEMENTS (all_zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);
  const char *const *face = dr_face_map_face_zones ();

  g_assert_cmpuint (g_strv_length ((char **) face), ==, 7);
  g_assert_cmpuint (g_hash_table_size (doc->zone_fill), ==, 7);
  for (gsize i = 0; i < 7; i++)
    {
      g_autofree char *want = hex (all_zones[i].coverage);
      g_assert_true (dr_face_map_is_face_zone (all_zones[i].name));
      g_assert_cmpstr (g_hash_table_lookup (doc->zone_fill, all_zones[i].name), ==, want);
    }
  g_assert_false (dr_face_map_is_face_zone ("temple"));
  g_assert_false (dr_face_map_is_face_zone ("unassigned"));
  g_assert_false (g_hash_table_contains (doc->zone_fill, "temple"));
}

static void
test_excluded_hatched (void)
{
  DrFaceMap map = { 12, NULL, NULL, all_zones, G_N_ELEMENTS (all_zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);

  g_assert_true (doc->has_hatch_pattern);
  g_assert_cmpuint (g_hash_table_size (doc->zone_hatched), ==, 1);
  g_assert_true (g_hash_table_contains (doc->zone_hatched, "upper-lip"));
  /* Said in words too, and explained in the legend. */
  g_assert_true (has_text (doc, "face", "excluded"));
  g_assert_true (has_text_containing (doc, "legend", "hatched"));
}

static void
test_numbers_in_zones (void)
{
  DrFaceMap map = { 12, NULL, NULL, all_zones, G_N_ELEMENTS (all_zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);

  g_assert_true (has_text (doc, "face", "forehead"));
  g_assert_true (has_text (doc, "face", "92 %"));
  g_assert_true (has_text (doc, "face", "5.5 / 6 passes"));
  g_assert_true (has_text (doc, "face", "left cheek"));
  g_assert_true (has_text (doc, "face", "71 %"));
  g_assert_true (has_text (doc, "face", "right cheek"));
  g_assert_true (has_text (doc, "face", "45 %"));
  g_assert_true (has_text (doc, "face", "nose"));
  g_assert_true (has_text (doc, "face", "15 %"));
  g_assert_true (has_text (doc, "face", "0.9 / 6 passes"));
  g_assert_true (has_text (doc, "face", "upper lip"));
  g_assert_true (has_text (doc, "face", "0 %"));
  g_assert_true (has_text (doc, "face", "100 %"));
  g_assert_true (has_text (doc, "face", "6.4 / 6 passes"));
  g_assert_true (has_text (doc, "face", "neck"));
  g_assert_true (has_text (doc, "face", "30 %"));
}

static void
test_other_zones_listed (void)
{
  DrFaceMap map = { 12, NULL, NULL, all_zones, G_N_ELEMENTS (all_zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);
  DrFaceMap face_only = { 3, NULL, NULL, all_zones, 7 };
  g_autofree char *svg2 = dr_face_map_svg (&face_only);
  g_autoptr (Doc) doc2 = parse_svg (svg2);

  g_assert_true (has_text (doc, "other-zones", "temple"));
  g_assert_true (has_text (doc, "other-zones", "55 % · 3.3 / 6 passes"));
  g_assert_true (has_text (doc, "other-zones", "unassigned"));
  g_assert_true (has_text_containing (doc, "other-zones", "12.4 cm²"));
  g_assert_false (has_text (doc, "other-zones", "forehead"));
  g_assert_false (has_text (doc, "other-zones", "none"));

  g_assert_true (has_text (doc2, "other-zones", "none"));
}

static void
test_many_other_zones (void)
{
  g_autoptr (GArray) zones = g_array_new (FALSE, TRUE, sizeof (DrFaceMapZone));
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *svg = NULL;
  DrFaceMap map = { 1 };

  for (int i = 0; i < 20; i++)
    {
      DrFaceMapZone z = { NULL, i / 20.0, i, 6, i, i % 3 == 0 };
      g_ptr_array_add (names, g_strdup_printf ("zone-%02d-with-a-long-name-xx", i));
      z.name = g_ptr_array_index (names, i);
      g_array_append_val (zones, z);
    }
  map.zones = (const DrFaceMapZone *) (void *) zones->data;
  map.n_zones = zones->len;
  svg = dr_face_map_svg (&map);
  {
    g_autoptr (Doc) doc = parse_svg (svg);
    /* 12 rows fit beside the face; the rest are counted. */
    g_assert_true (has_text (doc, "other-zones", "zone-11-with-a-long-name-xx"));
    g_assert_false (has_text (doc, "other-zones", "zone-12-with-a-long-name-xx"));
    g_assert_true (has_text (doc, "other-zones", "… and 8 more"));
    /* No face zone given: all seven grey, "not configured". */
    for (const char *const *n = dr_face_map_face_zones (); *n; n++)
      g_assert_cmpstr (g_hash_table_lookup (doc->zone_fill, *n), ==, "#e4e4e4");
    g_assert_true (has_text (doc, "face", "not configured"));
  }
}

static void
test_title_and_escaping (void)
{
  const DrFaceMapZone zones[] = {
    { "forehead", 0.5, 3, 6, 30, FALSE },
    { "a<b>&\"c'", 0.5, 3, 6, 30, FALSE },
  };
  DrFaceMap map
      = { 18446744073709551615u, "14.05.2024 <08:30>", "R&D roller", zones, G_N_ELEMENTS (zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);

  g_assert_true (doc->has_title);
  g_assert_true (has_text (doc, "", "Face coverage — session 18446744073709551615"));
  g_assert_true (has_text (doc, "", "14.05.2024 <08:30> · roller R&D roller"));
  g_assert_true (has_text (doc, "other-zones", "a<b>&\"c'"));
  g_assert_null (strstr (svg, "a<b>"));
}

static void
test_percent_rounding (void)
{
  const DrFaceMapZone zones[] = {
    { "forehead", 0.996, 5.98, 6, 0, FALSE }, /* not 100 %: not done yet */
    { "nose", 0.004, 0.02, 6, 0, FALSE },
    { "chin", 1.5, 9, 6, 0, FALSE }, /* over-treated: the number says so */
    { "neck", 0.5, 1, 0, 0, FALSE }, /* target unknown */
  };
  DrFaceMap map = { 1, NULL, NULL, zones, G_N_ELEMENTS (zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);
  g_autofree char *full = hex (1.0);

  g_assert_true (has_text (doc, "face", "99 %"));
  g_assert_false (has_text (doc, "face", "100 %"));
  g_assert_true (has_text (doc, "face", "0 %"));
  g_assert_true (has_text (doc, "face", "150 %"));
  g_assert_cmpstr (g_hash_table_lookup (doc->zone_fill, "chin"), ==, full);
  g_assert_true (has_text (doc, "face", "1.0 pass"));
}

static const DrFaceMapZone warned_zones[] = {
  { "forehead", 0.5, 3, 6, 30, FALSE, .pressure_episodes = 2 },
  { "left-cheek", 0.7, 4.2, 6, 28, FALSE },
  { "nose", 2.1, 12.6, 6, 151, FALSE, .over_treated = TRUE },
  { "upper-lip", 0.0, 0.0, 6, 0, TRUE },
  { "chin", 0.4, 2.4, 6, 43, TRUE, .rolled_excluded = TRUE },
  { "neck", 1.0, 6.0, 6, 660, FALSE, .pressure_episodes = 1 },
  { "temple", 2.0, 12, 6, 120, FALSE, .over_treated = TRUE },
  { "jaw", 0.3, 1.8, 6, 10, TRUE, .rolled_excluded = TRUE },
};

static void
test_over_treated (void)
{
  DrFaceMap map = { 7, NULL, NULL, warned_zones, G_N_ELEMENTS (warned_zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);
  guint8 w[3];
  g_autofree char *warning = NULL;

  dr_face_map_warning_colour (w);
  warning = g_strdup_printf ("#%02x%02x%02x", w[0], w[1], w[2]);
  /* Not the calm full-coverage colour: the warning colour, dotted, the
   * words, and its number as it is. */
  g_assert_cmpstr (g_hash_table_lookup (doc->zone_fill, "nose"), ==, warning);
  g_assert_true (g_hash_table_contains (doc->zone_dotted, "nose"));
  g_assert_false (g_hash_table_contains (doc->zone_hatched, "nose"));
  g_assert_true (has_text (doc, "face", "over-treated"));
  g_assert_true (has_text (doc, "face", "210 %"));
  g_assert_true (has_text (doc, "face", "12.6 / 6 passes"));
  /* Beside the face too. */
  g_assert_true (has_text (doc, "other-zones", "200 % · 12.0 / 6 passes · over-treated"));
  /* A zone at 100 % that did nothing wrong keeps the scale's colour. */
  {
    g_autofree char *full = hex (1.0);
    g_assert_cmpstr (g_hash_table_lookup (doc->zone_fill, "neck"), ==, full);
    g_assert_false (g_hash_table_contains (doc->zone_dotted, "neck"));
  }
  /* Only the over-treated zones are dotted. */
  g_assert_cmpuint (g_hash_table_size (doc->zone_dotted), ==, 1);
}

static void
test_excluded_rolled (void)
{
  DrFaceMap map = { 7, NULL, NULL, warned_zones, G_N_ELEMENTS (warned_zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);
  guint8 w[3];
  g_autofree char *warning = NULL;
  g_autofree char *zero = hex (0.0);

  dr_face_map_warning_colour (w);
  warning = g_strdup_printf ("#%02x%02x%02x", w[0], w[1], w[2]);
  /* Rolled although excluded: warning colour, still hatched, the words. */
  g_assert_cmpstr (g_hash_table_lookup (doc->zone_fill, "chin"), ==, warning);
  g_assert_true (g_hash_table_contains (doc->zone_hatched, "chin"));
  g_assert_true (has_text (doc, "face", "excluded, but rolled"));
  g_assert_true (has_text (doc, "other-zones", "30 % · 1.8 / 6 passes · excluded, but rolled"));
  /* Excluded and left alone: hatched over its scale colour, no warning. */
  g_assert_cmpstr (g_hash_table_lookup (doc->zone_fill, "upper-lip"), ==, zero);
  g_assert_true (g_hash_table_contains (doc->zone_hatched, "upper-lip"));
  g_assert_true (has_text (doc, "face", "excluded"));
  /* Marks: nose, chin, forehead and neck (over-pressure) on the face; none
   * on the left cheek or the upper lip. */
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (doc->group_marks, "face")), ==, 4);
  /* Beside the face: temple and jaw. */
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (doc->group_marks, "other-zones")), ==,
                    2);
}

static void
test_over_pressure (void)
{
  DrFaceMap map = { 7, NULL, NULL, warned_zones, G_N_ELEMENTS (warned_zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);
  g_autofree char *half = hex (0.5);

  /* Keeps its coverage colour, gets the dashed outline, the mark and the
   * words, with the count when more than one. */
  g_assert_cmpstr (g_hash_table_lookup (doc->zone_fill, "forehead"), ==, half);
  g_assert_true (g_hash_table_contains (doc->zone_dashed, "forehead"));
  g_assert_true (g_hash_table_contains (doc->zone_dashed, "neck"));
  g_assert_cmpuint (g_hash_table_size (doc->zone_dashed), ==, 2);
  g_assert_true (has_text (doc, "face", "over-pressure ×2"));
  g_assert_true (has_text (doc, "face", "over-pressure"));
}

static void
test_legend_warnings (void)
{
  DrFaceMap map = { 7, NULL, NULL, all_zones, G_N_ELEMENTS (all_zones) };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);

  /* Nothing went wrong: no mark on the face, but the legend explains
   * the three. */
  g_assert_null (g_hash_table_lookup (doc->group_marks, "face"));
  g_assert_cmpuint (g_hash_table_size (doc->zone_dotted), ==, 0);
  g_assert_cmpuint (g_hash_table_size (doc->zone_dashed), ==, 0);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (doc->group_marks, "legend")), ==, 3);
  g_assert_true (has_text_containing (doc, "legend", "over-treated"));
  g_assert_true (has_text_containing (doc, "legend", "excluded, but rolled"));
  g_assert_true (has_text_containing (doc, "legend", "over-pressure"));
}

static void
test_title_roller_in_progress (void)
{
  const DrFaceMapZone zones[] = { { "forehead", 0.5, 3, 6, 30, FALSE } };
  DrFaceMap map = { 5, "2024-05-14 08:30", "AA:BB:CC:DD:EE:01", zones, 1, "DermaRoller 7F", TRUE };
  g_autofree char *svg = dr_face_map_svg (&map);
  g_autoptr (Doc) doc = parse_svg (svg);
  DrFaceMap same = { 5, NULL, "AA:BB:CC:DD:EE:01", zones, 1, "AA:BB:CC:DD:EE:01", FALSE };
  g_autofree char *svg2 = dr_face_map_svg (&same);
  g_autoptr (Doc) doc2 = parse_svg (svg2);
  DrFaceMap escaped = { 5, NULL, "AA:BB:CC:DD:EE:01", zones, 1, "<R&D>", FALSE };
  g_autofree char *svg3 = dr_face_map_svg (&escaped);
  g_autoptr (Doc) doc3 = parse_svg (svg3);

  g_assert_true (has_text (doc, "", "Face coverage — session 5 (in progress)"));
  g_assert_true (
      has_text (doc, "", "2024-05-14 08:30 · roller DermaRoller 7F (AA:BB:CC:DD:EE:01)"));
  g_assert_nonnull (strstr (svg, "<title>Face coverage — session 5 (in progress), 2024-05-14 08:30 "
                                 "· roller DermaRoller 7F (AA:BB:CC:DD:EE:01)</title>"));
  /* A name that is only the address is not said twice; ended: no "in
   * progress". */
  g_assert_true (has_text (doc2, "", "Face coverage — session 5"));
  g_assert_true (has_text (doc2, "", "roller AA:BB:CC:DD:EE:01"));
  g_assert_null (strstr (svg2, "in progress"));
  g_assert_true (has_text (doc3, "", "roller <R&D> (AA:BB:CC:DD:EE:01)"));
}

static void
test_probes (void)
{
  double w, h;

  dr_face_map_size (&w, &h);
  for (const char *const *n = dr_face_map_face_zones (); *n; n++)
    {
      double x = -1, y = -1;
      g_assert_true (dr_face_map_zone_probe (*n, &x, &y));
      g_assert_cmpfloat (x, >, 0);
      g_assert_cmpfloat (x, <, w);
      g_assert_cmpfloat (y, >, 0);
      g_assert_cmpfloat (y, <, h);
    }
  g_assert_false (dr_face_map_zone_probe ("temple", &w, &h));
}

static void
test_deterministic (void)
{
  DrFaceMap map = { 12, "2024-05-14 08:30", "AA", all_zones, G_N_ELEMENTS (all_zones) };
  g_autofree char *a = dr_face_map_svg (&map);
  g_autofree char *b = dr_face_map_svg (&map);

  /* A pure function: no clock, no locale, no state. */
  g_assert_cmpstr (a, ==, b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/face-map/colour-scale", test_colour_scale);
  g_test_add_func ("/face-map/colour-blind/lightness-steps", test_scale_lightness_steps);
  g_test_add_func ("/face-map/colour-blind/warning-distinct", test_warning_distinct);
  g_test_add_func ("/face-map/zone-fills", test_zone_fills);
  g_test_add_func ("/face-map/excluded-hatched", test_excluded_hatched);
  g_test_add_func ("/face-map/numbers-in-zones", test_numbers_in_zones);
  g_test_add_func ("/face-map/other-zones", test_other_zones_listed);
  g_test_add_func ("/face-map/many-other-zones", test_many_other_zones);
  g_test_add_func ("/face-map/title-and-escaping", test_title_and_escaping);
  g_test_add_func ("/face-map/percent-rounding", test_percent_rounding);
  g_test_add_func ("/face-map/warning/over-treated", test_over_treated);
  g_test_add_func ("/face-map/warning/excluded-rolled", test_excluded_rolled);
  g_test_add_func ("/face-map/warning/over-pressure", test_over_pressure);
  g_test_add_func ("/face-map/warning/legend", test_legend_warnings);
  g_test_add_func ("/face-map/title/roller-in-progress", test_title_roller_in_progress);
  g_test_add_func ("/face-map/probes", test_probes);
  g_test_add_func ("/face-map/deterministic", test_deterministic);
  return g_test_run ();
}
