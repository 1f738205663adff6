/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-engine-config.c: the engine's default rules and the config file that
 * overrides them, including every class of error and that an error leaves
 * the config as it was.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "engine-config.h"

static void
assert_config_equal (const DrEngineConfig *a, const DrEngineConfig *b)
{
  g_assert_cmpmem (a, sizeof (*a), b, sizeof (*b));
}

static void
test_defaults (void)
{
  static const struct
  {
    const char *name;
    double area;
  } zones[] = {
    { "forehead", 60 }, { "left-cheek", 40 }, { "right-cheek", 40 }, { "nose", 12 },
    { "upper-lip", 8 }, { "chin", 18 },       { "neck", 110 },
  };
  DrEngineConfig c;

  dr_engine_config_init_defaults (&c);
  g_assert_cmpuint (c.n_zones, ==, 7);
  for (unsigned i = 0; i < G_N_ELEMENTS (zones); i++)
    {
      g_assert_cmpstr (c.zones[i].name, ==, zones[i].name);
      g_assert_cmpstr (dr_engine_config_zone_name (&c, (int) i), ==, zones[i].name);
      g_assert_cmpint (dr_engine_config_zone_by_name (&c, zones[i].name), ==, (int) i);
      g_assert_cmpfloat (c.zones[i].area_cm2, ==, zones[i].area);
      g_assert_cmpfloat (c.zones[i].target_passes, ==, 6.0);
      g_assert_cmpfloat (c.zones[i].force_limit_n, ==, 0.0);
      g_assert_false (c.zones[i].excluded);
    }
  for (unsigned i = 7; i < DR_MAX_ZONES; i++)
    g_assert_cmpstr (c.zones[i].name, ==, "");
  g_assert_null (dr_engine_config_zone_name (&c, 7));
  g_assert_null (dr_engine_config_zone_name (&c, DR_ZONE_UNASSIGNED));
  g_assert_cmpint (dr_engine_config_zone_by_name (&c, "temple"), ==, -1);
  g_assert_cmpint (dr_engine_config_zone_by_name (&c, ""), ==, -1);

  g_assert_cmpfloat (c.contact_force_n, ==, 0.5);
  g_assert_cmpfloat (c.force_limit_n[DR_NEEDLE_CLASS_COSMETIC], ==, 6.0);
  g_assert_cmpfloat (c.force_limit_n[DR_NEEDLE_CLASS_SHORT], ==, 5.0);
  g_assert_cmpfloat (c.force_limit_n[DR_NEEDLE_CLASS_MEDIUM], ==, 4.0);
  g_assert_cmpfloat (c.force_limit_n[DR_NEEDLE_CLASS_LONG], ==, 3.0);
  g_assert_cmpfloat (c.rest_days[DR_NEEDLE_CLASS_COSMETIC], ==, 1.0);
  g_assert_cmpfloat (c.rest_days[DR_NEEDLE_CLASS_SHORT], ==, 7.0);
  g_assert_cmpfloat (c.rest_days[DR_NEEDLE_CLASS_MEDIUM], ==, 28.0);
  g_assert_cmpfloat (c.rest_days[DR_NEEDLE_CLASS_LONG], ==, 42.0);
  g_assert_cmpint (c.session_gap_ms, ==, 120000);
  g_assert_cmpfloat (c.head_life_revolutions, ==, 2500.0);
  g_assert_cmpfloat (c.over_treatment_factor, ==, 2.0);
}

static void
test_needle_class (void)
{
  g_assert_cmpint (dr_needle_class_for_length (0), ==, DR_NEEDLE_CLASS_COSMETIC);
  g_assert_cmpint (dr_needle_class_for_length (300), ==, DR_NEEDLE_CLASS_COSMETIC);
  g_assert_cmpint (dr_needle_class_for_length (301), ==, DR_NEEDLE_CLASS_SHORT);
  g_assert_cmpint (dr_needle_class_for_length (500), ==, DR_NEEDLE_CLASS_SHORT);
  g_assert_cmpint (dr_needle_class_for_length (501), ==, DR_NEEDLE_CLASS_MEDIUM);
  g_assert_cmpint (dr_needle_class_for_length (1000), ==, DR_NEEDLE_CLASS_MEDIUM);
  g_assert_cmpint (dr_needle_class_for_length (1001), ==, DR_NEEDLE_CLASS_LONG);
  g_assert_cmpint (dr_needle_class_for_length (UINT16_MAX), ==, DR_NEEDLE_CLASS_LONG);
}

static void
test_force_limit (void)
{
  DrEngineConfig c;

  dr_engine_config_init_defaults (&c);
  c.zones[3].force_limit_n = 2.5;
  g_assert_cmpfloat (dr_engine_config_force_limit (&c, 0, 250), ==, 6.0);
  g_assert_cmpfloat (dr_engine_config_force_limit (&c, 0, 500), ==, 5.0);
  g_assert_cmpfloat (dr_engine_config_force_limit (&c, 0, 1000), ==, 4.0);
  g_assert_cmpfloat (dr_engine_config_force_limit (&c, 0, 1500), ==, 3.0);
  /* A zone override wins whatever the needle. */
  g_assert_cmpfloat (dr_engine_config_force_limit (&c, 3, 250), ==, 2.5);
  g_assert_cmpfloat (dr_engine_config_force_limit (&c, 3, 1500), ==, 2.5);
  g_assert_cmpfloat (dr_engine_config_force_limit (&c, DR_ZONE_UNASSIGNED, 500), ==, 5.0);
  g_assert_cmpfloat (dr_engine_config_force_limit (&c, 20, 500), ==, 5.0);
}

static void
test_empty (void)
{
  g_autoptr (GError) error = NULL;
  DrEngineConfig c, before;

  dr_engine_config_init_defaults (&c);
  before = c;
  g_assert_true (dr_engine_config_load_data (&c, "", "empty.conf", &error));
  g_assert_no_error (error);
  g_assert_true (dr_engine_config_load_data (&c, "# only a comment\n", "empty.conf", &error));
  g_assert_no_error (error);
  assert_config_equal (&c, &before);
}

static void
test_override_globals (void)
{
  static const char data[] = "[engine]\n"
                             "contact-force-n = 0.8\n"
                             "session-gap-s=90.5\n"
                             "head-life-revolutions=3000\n"
                             "over-treatment-factor=1.5\n"
                             "[force-limits]\n"
                             "cosmetic-n=5.5\n"
                             "long-n=2.5\n"
                             "[rest-days]\n"
                             "short=10\n"
                             "long=0\n";
  g_autoptr (GError) error = NULL;
  DrEngineConfig c;

  dr_engine_config_init_defaults (&c);
  g_assert_true (dr_engine_config_load_data (&c, data, "test.conf", &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (c.contact_force_n, ==, 0.8);
  g_assert_cmpint (c.session_gap_ms, ==, 90500);
  g_assert_cmpfloat (c.head_life_revolutions, ==, 3000.0);
  g_assert_cmpfloat (c.over_treatment_factor, ==, 1.5);
  g_assert_cmpfloat (c.force_limit_n[DR_NEEDLE_CLASS_COSMETIC], ==, 5.5);
  g_assert_cmpfloat (c.force_limit_n[DR_NEEDLE_CLASS_SHORT], ==, 5.0);
  g_assert_cmpfloat (c.force_limit_n[DR_NEEDLE_CLASS_MEDIUM], ==, 4.0);
  g_assert_cmpfloat (c.force_limit_n[DR_NEEDLE_CLASS_LONG], ==, 2.5);
  g_assert_cmpfloat (c.rest_days[DR_NEEDLE_CLASS_COSMETIC], ==, 1.0);
  g_assert_cmpfloat (c.rest_days[DR_NEEDLE_CLASS_SHORT], ==, 10.0);
  g_assert_cmpfloat (c.rest_days[DR_NEEDLE_CLASS_MEDIUM], ==, 28.0);
  g_assert_cmpfloat (c.rest_days[DR_NEEDLE_CLASS_LONG], ==, 0.0);
}

static void
test_override_zone (void)
{
  static const char data[] = "[zone chin]\n"
                             "area-cm2=20.5\n"
                             "target-passes=4\n"
                             "force-limit-n=3.5\n"
                             "excluded=true\n"
                             "[zone nose]\n"
                             "id=3\n" /* restating its own id is fine */
                             "excluded=false\n";
  g_autoptr (GError) error = NULL;
  DrEngineConfig c, defaults;

  dr_engine_config_init_defaults (&defaults);
  c = defaults;
  g_assert_true (dr_engine_config_load_data (&c, data, "test.conf", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.n_zones, ==, 7);
  g_assert_cmpstr (c.zones[5].name, ==, "chin");
  g_assert_cmpfloat (c.zones[5].area_cm2, ==, 20.5);
  g_assert_cmpfloat (c.zones[5].target_passes, ==, 4.0);
  g_assert_cmpfloat (c.zones[5].force_limit_n, ==, 3.5);
  g_assert_true (c.zones[5].excluded);
  g_assert_cmpfloat (dr_engine_config_force_limit (&c, 5, 250), ==, 3.5);
  /* Everything else as it was. */
  for (unsigned i = 0; i < DR_MAX_ZONES; i++)
    if (i != 5)
      g_assert_cmpmem (&c.zones[i], sizeof (DrZoneSpec), &defaults.zones[i], sizeof (DrZoneSpec));
}

static void
test_add_zone (void)
{
  /* "temple" comes first in the file but has no id: it gets the lowest id
   * still free once "scalp" (7) is placed, so 8; "jaw" then gets 9. */
  static const char data[] = "[zone temple]\n"
                             "area-cm2=6\n"
                             "[zone scalp]\n"
                             "id=7\n"
                             "area-cm2=300\n"
                             "target-passes=3\n"
                             "[zone back-of-hand]\n"
                             "id=20\n"
                             "area-cm2=80\n"
                             "excluded=true\n"
                             "[zone jaw]\n"
                             "area-cm2=25\n"
                             "force-limit-n=4.5\n";
  g_autoptr (GError) error = NULL;
  DrEngineConfig c;

  dr_engine_config_init_defaults (&c);
  g_assert_true (dr_engine_config_load_data (&c, data, "test.conf", &error));
  g_assert_no_error (error);

  g_assert_cmpint (dr_engine_config_zone_by_name (&c, "scalp"), ==, 7);
  g_assert_cmpint (dr_engine_config_zone_by_name (&c, "temple"), ==, 8);
  g_assert_cmpint (dr_engine_config_zone_by_name (&c, "jaw"), ==, 9);
  g_assert_cmpint (dr_engine_config_zone_by_name (&c, "back-of-hand"), ==, 20);
  g_assert_cmpuint (c.n_zones, ==, 21);

  g_assert_cmpfloat (c.zones[7].area_cm2, ==, 300.0);
  g_assert_cmpfloat (c.zones[7].target_passes, ==, 3.0);
  /* New zones get the default target and the needle-length limit. */
  g_assert_cmpfloat (c.zones[8].area_cm2, ==, 6.0);
  g_assert_cmpfloat (c.zones[8].target_passes, ==, 6.0);
  g_assert_cmpfloat (c.zones[8].force_limit_n, ==, 0.0);
  g_assert_false (c.zones[8].excluded);
  g_assert_cmpfloat (c.zones[9].force_limit_n, ==, 4.5);
  g_assert_true (c.zones[20].excluded);
  /* The ids in between are "no zone". */
  for (unsigned i = 10; i < 20; i++)
    g_assert_null (dr_engine_config_zone_name (&c, (int) i));

  /* Loading more on top: the added zones are now existing ones. */
  g_assert_true (
      dr_engine_config_load_data (&c, "[zone temple]\nid=8\narea-cm2=7\n", "more.conf", &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (c.zones[8].area_cm2, ==, 7.0);
}

static void
test_add_zone_full (void)
{
  g_autoptr (GString) data = g_string_new ("");
  g_autoptr (GError) error = NULL;
  DrEngineConfig c, before;

  /* 7 defaults + 25 new = 32, every id taken. */
  for (unsigned i = 0; i < 25; i++)
    g_string_append_printf (data, "[zone extra-%u]\narea-cm2=1\n", i);
  dr_engine_config_init_defaults (&c);
  g_assert_true (dr_engine_config_load_data (&c, data->str, "full.conf", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.n_zones, ==, DR_MAX_ZONES);
  g_assert_cmpint (dr_engine_config_zone_by_name (&c, "extra-24"), ==, 31);

  before = c;
  g_assert_false (
      dr_engine_config_load_data (&c, "[zone one-too-many]\narea-cm2=1\n", "full.conf", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==,
                   "full.conf:1: [zone one-too-many] id: no free zone id (at most 32 zones)");
  assert_config_equal (&c, &before);
}

static void
test_unknown_group_ignored (void)
{
  /* The daemon keeps its own groups in the same file. */
  g_autoptr (GError) error = NULL;
  DrEngineConfig c, before;

  dr_engine_config_init_defaults (&c);
  before = c;
  g_assert_true (dr_engine_config_load_data (&c, "[daemon]\nstore=/var/lib/x\nanything=else\n",
                                             "test.conf", &error));
  g_assert_no_error (error);
  assert_config_equal (&c, &before);
}

static void
test_load_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  DrEngineConfig c, before;
  int fd;

  fd = g_file_open_tmp ("test-engine-config-XXXXXX.conf", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, "[zone neck]\narea-cm2=120\n", -1, &error));
  g_assert_no_error (error);

  dr_engine_config_init_defaults (&c);
  g_assert_true (dr_engine_config_load_file (&c, path, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (c.zones[6].area_cm2, ==, 120.0);

  /* Errors from a file carry its path. */
  g_assert_true (g_file_set_contents (path, "[zone neck]\narea-cm2=-1\n", -1, &error));
  g_assert_no_error (error);
  before = c;
  g_assert_false (dr_engine_config_load_file (&c, path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_true (g_str_has_prefix (error->message, path));
  assert_config_equal (&c, &before);
  g_clear_error (&error);
  g_unlink (path);

  g_assert_false (dr_engine_config_load_file (&c, path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, path));
  assert_config_equal (&c, &before);
}

/* Errors: each case must fail with exactly this message and leave the
 * config untouched. The messages name the file, the group and the key. */
typedef struct
{
  const char *path;
  const char *data;
  int code;            /* in G_IO_ERROR; 0 = a GKeyFile parse error */
  const char *message; /* exact, or a prefix when it ends in "…" */
} ErrorCase;

static const ErrorCase error_cases[] = {
  { "/engine-config/error/unparsable", "[zone chin\narea-cm2=3\n", 0, "/etc/dermaroll.conf: …" },
  { "/engine-config/error/not-a-pair", "[engine]\ncontact-force-n\n", 0, "/etc/dermaroll.conf: …" },
  { "/engine-config/error/not-a-number", "[zone chin]\narea-cm2=abc\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone chin] area-cm2: must be a number > 0 and <= 20000, got \"abc\"" },
  { "/engine-config/error/trailing-junk", "[engine]\ncontact-force-n=0.5N\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [engine] contact-force-n: must be a number > 0 and <= 50, got "
    "\"0.5N\"" },
  { "/engine-config/error/empty-value", "[force-limits]\nshort-n=\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [force-limits] short-n: must be a number > 0 and <= 50, got \"\"" },
  { "/engine-config/error/not-finite", "[engine]\nhead-life-revolutions=inf\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [engine] head-life-revolutions: must be a number > 0 and <= 1000000, "
    "got \"inf\"" },
  { "/engine-config/error/out-of-range/area", "[zone nose]\narea-cm2=0\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone nose] area-cm2: must be a number > 0 and <= 20000, got \"0\"" },
  { "/engine-config/error/out-of-range/gap", "[engine]\nsession-gap-s=86401\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [engine] session-gap-s: must be a number > 0 and <= 86400, got "
    "\"86401\"" },
  { "/engine-config/error/out-of-range/factor", "[engine]\nover-treatment-factor=0.5\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [engine] over-treatment-factor: must be a number >= 1 and <= 100, got "
    "\"0.5\"" },
  { "/engine-config/error/out-of-range/rest", "[rest-days]\nmedium=-1\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [rest-days] medium: must be a number from 0 to 3650, got \"-1\"" },
  { "/engine-config/error/out-of-range/zone-limit", "[zone neck]\nforce-limit-n=-2\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone neck] force-limit-n: must be a number from 0 to 50 (0 = the "
    "needle-length default), got \"-2\"" },
  { "/engine-config/error/out-of-range/id", "[zone temple]\nid=32\narea-cm2=5\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone temple] id: must be an integer from 0 to 31, got \"32\"" },
  { "/engine-config/error/not-an-integer", "[zone temple]\nid=7.5\narea-cm2=5\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone temple] id: must be an integer from 0 to 31, got \"7.5\"" },
  { "/engine-config/error/not-a-boolean", "[zone chin]\nexcluded=yes\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone chin] excluded: must be true or false, got \"yes\"" },
  { "/engine-config/error/unknown-key/engine", "[engine]\ncontact-force=0.5\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [engine] contact-force: unknown key; did you mean contact-force-n? "
    "(known: contact-force-n, "
    "session-gap-s, head-life-revolutions, over-treatment-factor)" },
  { "/engine-config/error/unknown-key/zone", "[zone chin]\narea=18\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone chin] area: unknown key (known: id, area-cm2, target-passes, "
    "force-limit-n, excluded)" },
  { "/engine-config/error/unknown-key/rest-days", "[rest-days]\nshort-n=7\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [rest-days] short-n: unknown key; did you mean short? (known: "
    "cosmetic, short, medium, "
    "long)" },
  { "/engine-config/error/unknown-key/force-limits", "[force-limits]\nshort=5\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [force-limits] short: unknown key; did you mean short-n? (known: "
    "cosmetic-n, short-n, "
    "medium-n, long-n)" },
  { "/engine-config/error/duplicate-id/default", "[zone temple]\nid=3\narea-cm2=5\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone temple] id: duplicate id: 3 is already zone nose, got \"3\"" },
  { "/engine-config/error/duplicate-id/new",
    "[zone temple]\nid=9\narea-cm2=5\n[zone jaw]\nid=9\narea-cm2=5\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:5: [zone jaw] id: duplicate id: 9 is already zone temple, got \"9\"" },
  { "/engine-config/error/move-zone", "[zone chin]\nid=9\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone chin] id: zone chin is id 5 and can't be moved, got \"9\"" },
  { "/engine-config/error/new-zone-without-area", "[zone temple]\ntarget-passes=3\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:1: [zone temple] area-cm2: required for a new zone" },
  { "/engine-config/error/zone-name/upper-case", "[zone Chin]\narea-cm2=18\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:1: [zone Chin]: a zone name must be 1-31 characters of a-z, 0-9 and -, "
    "got \"Chin\"" },
  { "/engine-config/error/zone-name/empty", "[zone]\narea-cm2=18\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:1: [zone]: a zone name must be 1-31 characters of a-z, 0-9 and -, got "
    "\"\"" },
  { "/engine-config/error/zone-name/too-long",
    "[zone abcdefghijklmnopqrstuvwxyz-12345]\narea-cm2=18\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:1: [zone abcdefghijklmnopqrstuvwxyz-12345]: a zone name must be 1-31 "
    "characters of a-z, 0-9 and -, got \"abcdefghijklmnopqrstuvwxyz-12345\"" },
  { "/engine-config/error/nan", "[engine]\ncontact-force-n=nan\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [engine] contact-force-n: must be a number > 0 and <= 50, got "
    "\"nan\"" },
  { "/engine-config/error/minus-inf", "[force-limits]\nlong-n=-inf\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [force-limits] long-n: must be a number > 0 and <= 50, got \"-inf\"" },
  { "/engine-config/error/overflow", "[rest-days]\nshort=1e400\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [rest-days] short: must be a number from 0 to 3650, got \"1e400\"" },
  { "/engine-config/error/huge", "[zone chin]\ntarget-passes=1e300\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [zone chin] target-passes: must be a number > 0 and <= 1000, got "
    "\"1e300\"" },
  { "/engine-config/error/huge-force", "[engine]\ncontact-force-n=5000\n", G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [engine] contact-force-n: must be a number > 0 and <= 50, got "
    "\"5000\"" },
  { "/engine-config/error/negative", "[engine]\nhead-life-revolutions=-2500\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:2: [engine] head-life-revolutions: must be a number > 0 and <= 1000000, "
    "got \"-2500\"" },
  /* A good group before the bad one must not leak into the config. */
  { "/engine-config/error/untouched-after-good-groups",
    "[engine]\ncontact-force-n=1\n[zone temple]\narea-cm2=5\n[zone chin]\narea-cm2=abc\n",
    G_IO_ERROR_INVALID_DATA,
    "/etc/dermaroll.conf:6: [zone chin] area-cm2: must be a number > 0 and <= 20000, got \"abc\"" },
};

static void
test_error (gconstpointer data)
{
  const ErrorCase *tc = data;
  g_autoptr (GError) error = NULL;
  DrEngineConfig c, before;
  size_t len = strlen (tc->message);

  dr_engine_config_init_defaults (&c);
  /* Something not default, so "untouched" is not just "defaults". */
  c.zones[5].area_cm2 = 19.0;
  memcpy (&before, &c, sizeof (c));

  g_assert_false (dr_engine_config_load_data (&c, tc->data, "/etc/dermaroll.conf", &error));
  g_assert_nonnull (error);
  if (tc->code != 0)
    g_assert_error (error, G_IO_ERROR, tc->code);
  else
    g_assert_true (error->domain == G_KEY_FILE_ERROR);

  if (g_str_has_suffix (tc->message, "…"))
    {
      len -= strlen ("…");
      g_assert_cmpint (strncmp (error->message, tc->message, len), ==, 0);
    }
  else
    {
      g_assert_cmpstr (error->message, ==, tc->message);
    }
  assert_config_equal (&c, &before);
}

/* The file of the report: one bad value used to throw away the whole file,
 * the chin's exclusion with it. Every problem is listed, in file order, with
 * its line; nothing is applied. */
static void
test_every_problem_listed (void)
{
  static const char data[] = "[engine]\n"            /* 1 */
                             "contact-force-n=abc\n" /* 2 */
                             "[zone chin]\n"         /* 3 */
                             "excluded=true\n"       /* 4 */
                             "[enigne]\n"            /* 5 */
                             "session-gap-s=60\n"    /* 6 */
                             "[zone chin]\n"         /* 7 */
                             "excluded=false\n"      /* 8 */
                             "[rest-days]\n"         /* 9 */
                             "short=7\n"             /* 10 */
                             "short=-7\n"            /* 11 */
                             "[force-limits]\n"      /* 12 */
                             "long-n=inf\n"          /* 13 */
                             "[zone nose]\n"         /* 14 */
                             "exclude=true\n";       /* 15 */
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  DrEngineConfig c, before;

  dr_engine_config_init_defaults (&c);
  before = c;
  g_assert_false (
      dr_engine_config_load_bytes (&c, data, strlen (data), "/etc/d.conf", warnings, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==,
                   "/etc/d.conf:2: [engine] contact-force-n: must be a number > 0 and <= 50, got "
                   "\"abc\"\n"
                   "/etc/d.conf:7: group [zone chin] given twice (first at line 3): merge them "
                   "into one\n"
                   "/etc/d.conf:8: [zone chin] excluded: given twice (first at line 4): only one "
                   "may stay\n"
                   "/etc/d.conf:11: [rest-days] short: given twice (first at line 10): only one "
                   "may stay\n"
                   "/etc/d.conf:11: [rest-days] short: must be a number from 0 to 3650, got "
                   "\"-7\"\n"
                   "/etc/d.conf:13: [force-limits] long-n: must be a number > 0 and <= 50, got "
                   "\"inf\"\n"
                   "/etc/d.conf:15: [zone nose] exclude: unknown key; did you mean excluded? "
                   "(known: id, area-cm2, target-passes, force-limit-n, excluded)");
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (warnings, 0), ==,
                   "/etc/d.conf:5: unknown group [enigne], ignored; did you mean [engine]?");
  assert_config_equal (&c, &before);
}

/* A good file with only a misspelt group loads, and says what it ignored. */
static void
test_unknown_group_warned (void)
{
  static const char data[] = "[zone chin]\nexcluded=true\n[zone-nose]\nexcluded=true\n"
                             "[notifcations]\nhead-worn=false\n[frobnicate]\nx=1\n";
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  DrEngineConfig c;

  dr_engine_config_init_defaults (&c);
  g_assert_true (dr_engine_config_load_bytes (&c, data, strlen (data), "u.conf", warnings, &error));
  g_assert_no_error (error);
  g_assert_true (c.zones[5].excluded);
  g_assert_false (c.zones[3].excluded);
  g_assert_cmpuint (warnings->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (warnings, 0), ==,
                   "u.conf:3: unknown group [zone-nose], ignored; did you mean [zone nose]?");
  g_assert_cmpstr (g_ptr_array_index (warnings, 1), ==,
                   "u.conf:5: unknown group [notifcations], ignored; did you mean "
                   "[notifications]?");
  g_assert_cmpstr (g_ptr_array_index (warnings, 2), ==,
                   "u.conf:7: unknown group [frobnicate], ignored (known: [engine], "
                   "[force-limits], [rest-days], [zone NAME], [notifications])");

  /* [notifications] belongs to the notifier: no warning. */
  g_ptr_array_set_size (warnings, 0);
  g_assert_true (
      dr_engine_config_load_data (&c, "[notifications]\nhead-worn=false\n", "n.conf", &error));
  g_assert_true (
      dr_engine_config_load_bytes (&c, "[notifications]\n", 16, "n.conf", warnings, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 0);
}

/* GKeyFile reads up to a NUL and takes the rest for nothing: the file must
 * be refused, not read as empty. */
static void
test_nul_byte (void)
{
  static const char data[] = "\0[zone chin]\nexcluded=true\n";
  static const char later[] = "[zone chin]\nexcluded=true\n\0\n[zone nose]\nexcluded=true\n";
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  DrEngineConfig c, before;
  int fd;

  dr_engine_config_init_defaults (&c);
  before = c;
  g_assert_false (
      dr_engine_config_load_bytes (&c, data, sizeof (data) - 1, "z.conf", NULL, &error));
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE);
  g_assert_cmpstr (error->message, ==,
                   "z.conf:1: a NUL byte at offset 0: this is not a text config file");
  g_clear_error (&error);
  g_assert_false (
      dr_engine_config_load_bytes (&c, later, sizeof (later) - 1, "z.conf", NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "z.conf:3: a NUL byte at offset 26: this is not a text config file");
  g_clear_error (&error);
  assert_config_equal (&c, &before);

  fd = g_file_open_tmp ("test-engine-config-XXXXXX.conf", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, data, sizeof (data) - 1, &error));
  g_assert_false (dr_engine_config_load_file (&c, path, &error));
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE);
  g_assert_true (g_str_has_prefix (error->message, path));
  assert_config_equal (&c, &before);
  g_unlink (path);
}

static void
test_directory (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-engine-config-XXXXXX", NULL);
  g_autofree char *expected = g_strdup_printf ("%s: is a directory, not a config file", dir);
  DrEngineConfig c, before;

  g_assert_nonnull (dir);
  dr_engine_config_init_defaults (&c);
  before = c;
  g_assert_false (dr_engine_config_load_file (&c, dir, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_assert_cmpstr (error->message, ==, expected);
  assert_config_equal (&c, &before);
  g_rmdir (dir);
}

static void
test_unreadable (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  DrEngineConfig c, before;
  int fd;

  if (geteuid () == 0)
    {
      g_test_skip ("root reads any file");
      return;
    }
  fd = g_file_open_tmp ("test-engine-config-XXXXXX.conf", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, "[zone chin]\nexcluded=true\n", -1, &error));
  g_assert_cmpint (g_chmod (path, 0), ==, 0);
  dr_engine_config_init_defaults (&c);
  before = c;
  g_assert_false (dr_engine_config_load_file (&c, path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "Permission denied"));
  assert_config_equal (&c, &before);
  g_unlink (path);
}

/* A megabyte of value is quoted in 64 characters and its length. */
static void
test_long_value_quoted_bounded (void)
{
  g_autoptr (GString) data = g_string_new ("[engine]\ncontact-force-n=");
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = NULL;
  DrEngineConfig c;

  for (unsigned i = 0; i < 1024 * 1024; i++)
    g_string_append_c (data, 'x');
  g_string_append_c (data, '\n');
  dr_engine_config_init_defaults (&c);
  g_assert_false (dr_engine_config_load_data (&c, data->str, "l.conf", &error));
  expected = g_strdup_printf ("l.conf:2: [engine] contact-force-n: must be a number > 0 and <= 50, "
                              "got \"%.64s…\" (1048576 bytes)",
                              data->str + strlen ("[engine]\ncontact-force-n="));
  g_assert_cmpstr (error->message, ==, expected);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine-config/defaults", test_defaults);
  g_test_add_func ("/engine-config/needle-class", test_needle_class);
  g_test_add_func ("/engine-config/force-limit", test_force_limit);
  g_test_add_func ("/engine-config/empty", test_empty);
  g_test_add_func ("/engine-config/override-globals", test_override_globals);
  g_test_add_func ("/engine-config/override-zone", test_override_zone);
  g_test_add_func ("/engine-config/add-zone", test_add_zone);
  g_test_add_func ("/engine-config/add-zone-full", test_add_zone_full);
  g_test_add_func ("/engine-config/unknown-group-ignored", test_unknown_group_ignored);
  g_test_add_func ("/engine-config/load-file", test_load_file);
  g_test_add_func ("/engine-config/every-problem-listed", test_every_problem_listed);
  g_test_add_func ("/engine-config/unknown-group-warned", test_unknown_group_warned);
  g_test_add_func ("/engine-config/nul-byte", test_nul_byte);
  g_test_add_func ("/engine-config/directory", test_directory);
  g_test_add_func ("/engine-config/unreadable", test_unreadable);
  g_test_add_func ("/engine-config/long-value-quoted-bounded", test_long_value_quoted_bounded);
  for (unsigned i = 0; i < G_N_ELEMENTS (error_cases); i++)
    g_test_add_data_func (error_cases[i].path, &error_cases[i], test_error);

  return g_test_run ();
}
