/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* face-map-sample.c: writes a face map with known coverage for
 * tests/face-map-render.py, which renders it and checks the colours.
 *
 * Usage: face-map-sample SCENARIO OUT.svg
 *   scale      every face zone at a different coverage, none excluded
 *   excluded   upper lip excluded, neck not configured (left out)
 *   warnings   chin over-treated, upper lip excluded but rolled, left
 *              cheek with an over-pressure episode, in progress
 *   example    the picture in the README (client/coverage-example.png):
 *              face-map-sample example x.svg && rsvg-convert x.svg |
 *              pngquant --quality 70-95 - > client/coverage-example.png
 * Prints one line per face zone: "NAME X Y STATE COVERAGE", STATE being
 * fill, hatched, unconfigured, warning (the warning colour, dotted) or
 * warning-hatched (the warning colour, hatched), X Y the zone's probe
 * point in pixels.
 */
#include <glib.h>
#include <stdio.h>

#include "face-map.h"

static const DrFaceMapZone scale_zones[] = {
  { "forehead", 0.0, 0.0, 6, 0, FALSE },      { "left-cheek", 0.1, 0.6, 6, 4, FALSE },
  { "right-cheek", 0.25, 1.5, 6, 10, FALSE }, { "nose", 0.5, 3.0, 6, 6, FALSE },
  { "upper-lip", 0.75, 4.5, 6, 6, FALSE },    { "chin", 0.9, 5.4, 6, 16, FALSE },
  { "neck", 1.0, 6.0, 6, 110, FALSE },        { "temple", 0.4, 2.4, 6, 5, FALSE },
};

static const DrFaceMapZone excluded_zones[] = {
  { "forehead", 0.6, 3.6, 6, 36, FALSE },    { "left-cheek", 0.8, 4.8, 6, 32, FALSE },
  { "right-cheek", 0.8, 4.8, 6, 32, FALSE }, { "nose", 0.3, 1.8, 6, 4, FALSE },
  { "upper-lip", 0.0, 0.0, 6, 0, TRUE },     { "chin", 0.2, 1.2, 6, 4, FALSE },
  { "unassigned", 0.0, 0.0, 0, 3.5, FALSE },
};

static const DrFaceMapZone warning_zones[] = {
  { "forehead", 0.6, 3.6, 6, 36, FALSE },
  { "left-cheek", 0.8, 4.8, 6, 32, FALSE, .pressure_episodes = 1 },
  { "right-cheek", 0.8, 4.8, 6, 32, FALSE },
  { "nose", 0.3, 1.8, 6, 4, FALSE },
  { "upper-lip", 0.5, 3.0, 6, 24, TRUE, .rolled_excluded = TRUE },
  { "chin", 2.1, 12.6, 6, 226.8, FALSE, .over_treated = TRUE },
  { "neck", 1.0, 6.0, 6, 660, FALSE },
};

static const DrFaceMapZone example_zones[] = {
  { "forehead", 0.92, 5.5, 6, 55.2, FALSE },
  { "left-cheek", 0.71, 4.3, 6, 40, FALSE, .pressure_episodes = 1 },
  { "right-cheek", 0.45, 2.7, 6, 27, FALSE },
  { "nose", 2.2, 13.2, 6, 158.4, FALSE, .over_treated = TRUE },
  { "upper-lip", 0.0, 0.0, 6, 0, TRUE },
  { "chin", 0.4, 2.4, 6, 43.2, TRUE, .rolled_excluded = TRUE },
  { "neck", 0.3, 1.8, 6, 50, FALSE },
  { "temple", 0.55, 3.3, 6, 10, FALSE },
  { "unassigned", 0.0, 0.0, 0, 12.4, FALSE },
};

int
main (int argc, char **argv)
{
  DrFaceMap map = { 42, "2024-05-14 08:30", "AA:BB:CC:DD:EE:FF", NULL, 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *svg = NULL;

  if (argc != 3)
    {
      g_printerr ("usage: face-map-sample scale|excluded|warnings|example OUT.svg\n");
      return 2;
    }
  if (g_str_equal (argv[1], "scale"))
    {
      map.zones = scale_zones;
      map.n_zones = G_N_ELEMENTS (scale_zones);
    }
  else if (g_str_equal (argv[1], "excluded"))
    {
      map.zones = excluded_zones;
      map.n_zones = G_N_ELEMENTS (excluded_zones);
    }
  else if (g_str_equal (argv[1], "warnings"))
    {
      map.zones = warning_zones;
      map.n_zones = G_N_ELEMENTS (warning_zones);
      map.roller_name = "DermaRoller 7F";
      map.in_progress = TRUE;
    }
  else if (g_str_equal (argv[1], "example"))
    {
      map.session_id = 12;
      map.roller = "C0:FF:EE:00:00:01";
      map.roller_name = "DermaRoller 7F";
      map.zones = example_zones;
      map.n_zones = G_N_ELEMENTS (example_zones);
    }
  else
    {
      g_printerr ("face-map-sample: unknown scenario %s\n", argv[1]);
      return 2;
    }
  svg = dr_face_map_svg (&map);
  if (!g_file_set_contents (argv[2], svg, -1, &error))
    {
      g_printerr ("face-map-sample: %s\n", error->message);
      return 1;
    }
  for (const char *const *name = dr_face_map_face_zones (); *name; name++)
    {
      const DrFaceMapZone *zone = NULL;
      double x, y;
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      for (gsize i = 0; i < map.n_zones; i++)
        if (g_str_equal (map.zones[i].name, *name))
          zone = &map.zones[i];
      dr_face_map_zone_probe (*name, &x, &y);
      printf ("%s %d %d %s %s\n", *name, (int) x, (int) y,
              zone == NULL ? "unconfigured"
              : (zone->over_treated || zone->rolled_excluded)
                  ? (zone->excluded ? "warning-hatched" : "warning")
              : zone->excluded ? "hatched"
                               : "fill",
              g_ascii_dtostr (buf, sizeof buf, zone ? zone->coverage : 0.0));
    }
  return 0;
}
