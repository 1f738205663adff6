/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-history.c: the commands that read stored sessions: sessions,
 * coverage (with the face map), events and export.
 *
 * Everything comes from Manager1's ListPersonSessions, GetSessionCoverage,
 * GetSessionEvents, GetSessionInfo (the needle, for the aftercare) and
 * GetZones, and the session's person (Person1: ExcludedZones,
 * GetRestStatus); a session whose person was removed is nobody's, and has
 * no excluded zones or rest. Zones are shown in the daemon's id order,
 * "unassigned" last. Whether a zone is excluded is the person's setting
 * today:
 * the API does not say what it was during a past session, except that an
 * "excluded" event says it was rolled while excluded. What went wrong in
 * a zone (over-treated, rolled though excluded, over-pressure) comes from
 * the session's events, so the table, the map and the notifications
 * follow the same rules, the daemon's.
 */
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aftercare.h"
#include "dr-error.h"
#include "face-map.h"
#include "format.h"
#include "json-writer.h"
#include "people.h"
#include "roller-view.h"
#include "sample-stream.h"
#include "stroke-directions.h"
#include "table.h"
#include "zone-list.h"

typedef struct
{
  guint64 id;
  char *roller;
  gint64 start_ms;
  gint64 end_ms; /* 0 while active */
  double mean_coverage;
  char *person; /* Person1 object path, "/" for nobody */
} Session;

static void
session_clear (gpointer data)
{
  Session *session = data;
  g_free (session->roller);
  g_free (session->person);
}

static const char *
person_path (DrDBusPerson1 *person)
{
  return person ? g_dbus_proxy_get_object_path (G_DBUS_PROXY (person)) : DR_PEOPLE_NOBODY;
}

/* Sessions that started in [since, until) (until 0: no end), oldest first,
 * only @roller's when it is not NULL, only @person's when it is not NULL. */
static GArray *
list_sessions (DrCtl *ctl, gint64 since_ms, gint64 until_ms, const char *roller,
               DrDBusPerson1 *person, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GArray *sessions;
  GVariantIter iter;
  Session s;
  const char *address, *owner;

  if (!dr_dbus_manager1_call_list_person_sessions_sync (
          ctl->manager, since_ms, until_ms, person_path (person), G_DBUS_CALL_FLAGS_NONE, -1,
          &reply, NULL, error))
    return NULL;
  sessions = g_array_new (FALSE, TRUE, sizeof (Session));
  g_array_set_clear_func (sessions, session_clear);
  g_variant_iter_init (&iter, reply);
  while (g_variant_iter_next (&iter, "(t&sxxd&o)", &s.id, &address, &s.start_ms, &s.end_ms,
                              &s.mean_coverage, &owner))
    {
      if (roller != NULL && g_ascii_strcasecmp (roller, address) != 0)
        continue;
      s.roller = g_strdup (address);
      s.person = g_strdup (owner);
      g_array_append_val (sessions, s);
    }
  /* cppcheck-suppress memleak ; s.roller belongs to the array now: session_clear frees it */
  return sessions;
}

/* --person, when given (NULL: everybody). Returns -1 to go on, or the
 * exit status. */
static int
resolve_person_filter (DrCtl *ctl, const DrCommand *cmd, DrDBusPerson1 **person_out)
{
  *person_out = NULL;
  if (ctl->person == NULL)
    return -1;
  return dr_ctl_resolve_person (ctl, cmd, NULL, person_out);
}

/* The name of the session's person for people: "nobody" for a removed
 * person's. */
static const char *
session_person_name (DrCtl *ctl, const Session *s)
{
  const char *name = dr_ctl_person_name (ctl, s->person);

  return name ? name : "nobody";
}

/* The session @id names in @sessions (every stored one), or with @id 0 the
 * last one of @roller and @person (either may be NULL). *@session_out is
 * NULL for an id the list does not have: the daemon's answer for it
 * says why. Returns -1 to go on, or the exit status. */
static int
pick_session (DrCtl *ctl, GArray *sessions, guint64 id, const char *roller, DrDBusPerson1 *person,
              const Session **session_out)
{
  const Session *found = NULL;
  const char *name = person ? dr_dbus_person1_get_name (person) : NULL;

  for (guint i = 0; i < sessions->len; i++)
    {
      const Session *s = &g_array_index (sessions, Session, i);

      if (id != 0 ? s->id == id
                  : (roller == NULL || g_ascii_strcasecmp (roller, s->roller) == 0)
                        && (person == NULL || g_strcmp0 (s->person, person_path (person)) == 0))
        found = s;
    }
  if (id == 0 && found == NULL)
    return dr_ctl_failf ("no sessions yet%s%s%s%s", roller ? " with roller " : "",
                         roller ? roller : "", name ? " for " : "", name ? name : "");
  if (id != 0 && found != NULL && person != NULL
      && g_strcmp0 (found->person, person_path (person)) != 0)
    return dr_ctl_failf ("session %" G_GUINT64_FORMAT " is not %s's but %s's", id, name,
                         session_person_name (ctl, found));
  *session_out = found;
  return -1;
}

/* SESSION: a positive number, or "last" where @allow_last. */
static gboolean
parse_session_id (const char *text, gboolean allow_last, guint64 *id)
{
  if (allow_last && g_strcmp0 (text, "last") == 0)
    {
      *id = 0;
      return TRUE;
    }
  return g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT64, id, NULL);
}

typedef struct
{
  char *since;
  char *until;
  gint64 since_ms;
  gint64 until_ms;
} Range;

static void
range_clear (Range *range)
{
  g_free (range->since);
  g_free (range->until);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Range, range_clear)

/* Turns --since/--until into milliseconds; returns -1 or the exit status. */
static int
parse_range (const DrCommand *cmd, Range *range)
{
  g_autoptr (GError) error = NULL;

  range->since_ms = 0;
  range->until_ms = 0;
  if (range->since != NULL && !dr_parse_date (range->since, FALSE, &range->since_ms, &error))
    return dr_ctl_usage (cmd, "--since: %s", error->message);
  if (range->until != NULL && !dr_parse_date (range->until, TRUE, &range->until_ms, &error))
    return dr_ctl_usage (cmd, "--until: %s", error->message);
  if (range->until != NULL && range->until_ms <= range->since_ms)
    return dr_ctl_usage (cmd, "--until %s is not after --since %s", range->until,
                         range->since ? range->since : "(the beginning)");
  return -1;
}

static void
session_json_members (DrCtl *ctl, DrJson *json, const Session *s)
{
  g_autofree char *start = dr_fmt_iso8601 (s->start_ms);
  g_autofree char *end = s->end_ms ? dr_fmt_iso8601 (s->end_ms) : NULL;

  dr_json_member_uint (json, "id", s->id);
  dr_json_member_string (json, "roller", s->roller);
  dr_json_member_string (json, "start", start);
  dr_json_member_int (json, "start_ms", s->start_ms);
  dr_json_member_string (json, "end", end);
  if (s->end_ms)
    dr_json_member_int (json, "end_ms", s->end_ms);
  else
    {
      dr_json_key (json, "end_ms");
      dr_json_null (json);
    }
  dr_json_member_bool (json, "active", s->end_ms == 0);
  dr_json_member_double (json, "mean_coverage", s->mean_coverage);
  /* null: the person was removed, the session kept. */
  dr_json_member_string (json, "person", dr_ctl_person_name (ctl, s->person));
  dr_json_member_string (json, "person_object_path", s->person);
}

/* ---- sessions ----------------------------------------------------------- */

int
dr_cmd_sessions (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_auto (Range) range = { 0 };
  const GOptionEntry entries[]
      = { { "since", 0, 0, G_OPTION_ARG_STRING, &range.since,
            "Sessions that started on or after DATE", "DATE" },
          { "until", 0, 0, G_OPTION_ARG_STRING, &range.until,
            "Sessions that started before DATE (a day alone: up to its end)", "DATE" },
          { NULL } };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) sessions = NULL;
  g_autoptr (DrDBusPerson1) person = NULL;
  int status = dr_ctl_parse (ctl, cmd, entries, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 1)
    return dr_ctl_usage (cmd, "sessions takes no arguments");
  status = parse_range (cmd, &range);
  if (status >= 0)
    return status;
  if (!dr_ctl_connect (ctl, &error))
    return dr_ctl_fail (ctl, error);
  status = resolve_person_filter (ctl, cmd, &person);
  if (status >= 0)
    return status;
  sessions = list_sessions (ctl, range.since_ms, range.until_ms, ctl->roller, person, &error);
  if (sessions == NULL)
    return dr_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr (DrJson) json = dr_json_new (TRUE);

      dr_json_begin_array (json);
      for (guint i = 0; i < sessions->len; i++)
        {
          const Session *s = &g_array_index (sessions, Session, i);
          dr_json_begin_object (json);
          session_json_members (ctl, json, s);
          if (s->end_ms)
            dr_json_member_int (json, "duration_ms", s->end_ms - s->start_ms);
          dr_json_end_object (json);
        }
      dr_json_end_array (json);
      dr_ctl_print_json (g_steal_pointer (&json));
      return DR_EXIT_OK;
    }

  if (sessions->len == 0)
    {
      g_print ("No sessions%s%s%s.\n", range.since || range.until ? " in that time" : " yet",
               person ? " for " : "", person ? dr_dbus_person1_get_name (person) : "");
      return DR_EXIT_OK;
    }
  {
    g_autoptr (DrTable) table = dr_table_new (ctl->colour, "SESSION", "START", "DURATION", "PERSON",
                                              "ROLLER", "COVERAGE", (char *) NULL);
    g_autofree char *text = NULL;

    dr_table_align_right (table, 0);
    dr_table_align_right (table, 2);
    dr_table_align_right (table, 5);
    for (guint i = 0; i < sessions->len; i++)
      {
        const Session *s = &g_array_index (sessions, Session, i);

        dr_table_take (table, g_strdup_printf ("%" G_GUINT64_FORMAT, s->id));
        dr_table_take (table, dr_fmt_local_time (s->start_ms));
        if (s->end_ms)
          dr_table_take (table, dr_fmt_duration (s->end_ms - s->start_ms));
        else
          dr_table_add_coloured (table, DR_COLOUR_CYAN, "active");
        {
          const char *name = dr_ctl_person_name (ctl, s->person);
          /* "—": the person was removed, their session kept. */
          dr_table_add_coloured (table, name ? DR_COLOUR_NONE : DR_COLOUR_DIM, name ? name : "—");
        }
        dr_table_add (table, s->roller);
        dr_table_take_coloured (table, dr_coverage_colour (s->mean_coverage),
                                dr_fmt_percent (s->mean_coverage));
      }
    text = dr_table_render (table);
    dr_ctl_print (text);
  }
  return DR_EXIT_OK;
}

/* ---- coverage ----------------------------------------------------------- */

typedef struct
{
  char *name;
  double coverage;
  double passes;
  double rolled_cm2;
  double peak_force_n;
  double horizontal, vertical, diagonal, unknown; /* passes by stroke direction */
  const DrZoneInfo *info; /* NULL: not a configured zone (e.g. "unassigned") */
  /* From the session's events. */
  gboolean over_treated;   /* an "over-treated" event */
  gboolean excluded_event; /* an "excluded" event: contact while excluded */
  guint pressure_episodes; /* "pressure-started" events */
  double pressure_peak_n;  /* the highest "pressure-ended" peak-n */
  /* From the session's person's rest status: when the zone may be
   * treated again, 0 when it may be now (or nobody's session). */
  gint64 again_from_ms;
} ZoneCoverage;

static void
zone_coverage_clear (gpointer data)
{
  ZoneCoverage *zone = data;
  g_free (zone->name);
}

/* GetSessionCoverage's zones in the daemon's zone order, with
 * GetSessionCoverageByDirection's passes. */
static GArray *
fetch_coverage (DrCtl *ctl, guint64 id, GArray *zones, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) by_direction = NULL;
  g_autoptr (GVariant) names_only = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_auto (GStrv) order = dr_zone_list_names (zones);
  GVariantBuilder builder;
  GVariantIter iter;
  const char *name;
  double coverage, passes, rolled, peak;
  GArray *result;

  if (!dr_dbus_manager1_call_get_session_coverage_sync (ctl->manager, id, G_DBUS_CALL_FLAGS_NONE,
                                                        -1, &reply, NULL, error))
    return NULL;
  if (!dr_dbus_manager1_call_get_session_coverage_by_direction_sync (
          ctl->manager, id, G_DBUS_CALL_FLAGS_NONE, -1, &by_direction, NULL, error))
    return NULL;

  /* Sort by way of an a{sd} of the names, as for the live Coverage. */
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sd}"));
  g_variant_iter_init (&iter, reply);
  while (g_variant_iter_next (&iter, "{&s(dddd)}", &name, &coverage, &passes, &rolled, &peak))
    g_variant_builder_add (&builder, "{sd}", name, coverage);
  names_only = g_variant_ref_sink (g_variant_builder_end (&builder));
  names = dr_coverage_zone_names (names_only, (const char *const *) order);

  result = g_array_new (FALSE, TRUE, sizeof (ZoneCoverage));
  g_array_set_clear_func (result, zone_coverage_clear);
  for (guint i = 0; i < names->len; i++)
    {
      ZoneCoverage zone = { 0 };

      zone.name = g_strdup (g_ptr_array_index (names, i));
      g_variant_lookup (reply, zone.name, "(dddd)", &zone.coverage, &zone.passes, &zone.rolled_cm2,
                        &zone.peak_force_n);
      if (!g_variant_lookup (by_direction, zone.name, "(ddddd)", NULL, &zone.horizontal,
                             &zone.vertical, &zone.diagonal, &zone.unknown))
        zone.unknown = zone.passes;
      zone.info = dr_zone_list_find (zones, zone.name);
      g_array_append_val (result, zone);
    }
  return result;
}

static ZoneCoverage *
find_zone_coverage (GArray *coverage, const char *name)
{
  for (guint i = 0; name != NULL && i < coverage->len; i++)
    if (g_strcmp0 (g_array_index (coverage, ZoneCoverage, i).name, name) == 0)
      return &g_array_index (coverage, ZoneCoverage, i);
  return NULL;
}

/* What GetSessionEvents says about each zone of @coverage. */
static gboolean
apply_events (DrCtl *ctl, guint64 id, GArray *coverage, GError **error)
{
  g_autoptr (GVariant) events = NULL;
  GVariantIter iter;
  gint64 time_ms;
  const char *kind;
  GVariant *details;

  if (!dr_dbus_manager1_call_get_session_events_sync (ctl->manager, id, G_DBUS_CALL_FLAGS_NONE, -1,
                                                      &events, NULL, error))
    return FALSE;
  g_variant_iter_init (&iter, events);
  while (g_variant_iter_next (&iter, "(x&s@a{sv})", &time_ms, &kind, &details))
    {
      const char *name = NULL;
      ZoneCoverage *zone;
      double peak = 0;

      g_variant_lookup (details, "zone", "&s", &name);
      zone = find_zone_coverage (coverage, name);
      if (zone != NULL)
        {
          if (g_str_equal (kind, "over-treated"))
            zone->over_treated = TRUE;
          else if (g_str_equal (kind, "excluded"))
            zone->excluded_event = TRUE;
          else if (g_str_equal (kind, "pressure-started"))
            zone->pressure_episodes++;
          else if (g_str_equal (kind, "pressure-ended")
                   && g_variant_lookup (details, "peak-n", "d", &peak))
            zone->pressure_peak_n = MAX (zone->pressure_peak_n, peak);
        }
      g_variant_unref (details);
    }
  return TRUE;
}

/* Excluded today and rolled, or rolled while it was excluded. */
static gboolean
rolled_excluded (const ZoneCoverage *zone)
{
  return zone->excluded_event || (zone->info && zone->info->excluded && zone->passes > 0);
}

/* The roller's Roller1.Name when the daemon still knows the roller and it
 * names more than the address; NULL otherwise (a forgotten roller's
 * sessions stay). */
static char *
roller_name (DrCtl *ctl, const char *address)
{
  g_autoptr (GError) error = NULL;
  g_autolist (DrDBusRoller1) rollers = NULL;

  if (address == NULL || !dr_ctl_connect_objects (ctl, &error))
    return NULL;
  rollers = dr_ctl_list_rollers (ctl);
  for (GList *l = rollers; l != NULL; l = l->next)
    if (g_ascii_strcasecmp (dr_dbus_roller1_get_address (l->data), address) == 0)
      {
        const char *name = dr_dbus_roller1_get_name (l->data);
        if (name != NULL && name[0] != '\0' && g_ascii_strcasecmp (name, address) != 0)
          return g_strdup (name);
      }
  return NULL;
}

/* "unassigned" is always reported; it only means something when some
 * contact could not be placed. */
static gboolean
is_empty_unassigned (const ZoneCoverage *zone)
{
  return zone->info == NULL && g_strcmp0 (zone->name, "unassigned") == 0 && zone->rolled_cm2 <= 0;
}

static char *
passes_of_target (const ZoneCoverage *zone)
{
  g_autofree char *passes = dr_fmt_passes (zone->passes);

  if (zone->info == NULL || zone->info->target_passes <= 0)
    return g_steal_pointer (&passes);
  return g_strdup_printf ("%s / %g", passes, zone->info->target_passes);
}

/* The NOTE column: what went wrong in the zone, worst first, "; " between.
 * *@colour: red for what harms the skin (rolled though excluded,
 * over-pressure), yellow for over-treated or missed, dim otherwise. */
static char *
zone_note (const ZoneCoverage *z, DrColour *colour)
{
  g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
  gboolean excluded = z->info && z->info->excluded;

  *colour = DR_COLOUR_DIM;
  if (z->info == NULL)
    g_ptr_array_add (notes, g_strdup (g_strcmp0 (z->name, "unassigned") == 0
                                          ? "contact outside any known zone"
                                          : "not a configured zone"));
  if (rolled_excluded (z))
    {
      g_ptr_array_add (notes, g_strdup ("excluded, but rolled"));
      *colour = DR_COLOUR_RED;
    }
  else if (excluded)
    g_ptr_array_add (notes, g_strdup ("excluded"));
  if (z->pressure_episodes > 0)
    {
      g_autofree char *peak
          = dr_fmt_newtons (z->pressure_peak_n > 0 ? z->pressure_peak_n : z->peak_force_n);
      g_autofree char *times = z->pressure_episodes > 1
                                   ? g_strdup_printf (" ×%u", z->pressure_episodes)
                                   : g_strdup ("");
      g_ptr_array_add (notes, g_strdup_printf ("over-pressure%s (peak %s)", times, peak));
      *colour = DR_COLOUR_RED;
    }
  if (z->over_treated)
    {
      g_autofree char *passes = dr_fmt_passes (z->passes);
      if (z->info && z->info->target_passes > 0)
        g_ptr_array_add (notes, g_strdup_printf ("over-treated (%s passes of %g)", passes,
                                                 z->info->target_passes));
      else
        g_ptr_array_add (notes, g_strdup_printf ("over-treated (%s passes)", passes));
      if (*colour == DR_COLOUR_DIM)
        *colour = DR_COLOUR_YELLOW;
    }
  if (notes->len == 0 && z->info && z->coverage <= 0)
    {
      g_ptr_array_add (notes, g_strdup ("missed"));
      *colour = DR_COLOUR_YELLOW;
    }
  else if (z->info && !excluded && z->coverage > 0)
    {
      char *missing = dr_stroke_directions_missing (z->horizontal, z->vertical, z->diagonal);

      if (missing != NULL)
        {
          g_ptr_array_add (notes, missing);
          if (*colour == DR_COLOUR_DIM)
            *colour = DR_COLOUR_YELLOW;
        }
    }
  g_ptr_array_add (notes, NULL);
  return g_strjoinv ("; ", (char **) notes->pdata);
}

/* "forehead: again from 8 Dec 14:30" for each zone this session treated
 * that must still rest, after a blank line; nothing when none must. */
static void
print_again_from (GArray *coverage, gint64 now_ms)
{
  gboolean first = TRUE;

  for (guint i = 0; i < coverage->len; i++)
    {
      const ZoneCoverage *z = &g_array_index (coverage, ZoneCoverage, i);
      g_autofree char *day = NULL;

      if (z->info == NULL || z->rolled_cm2 <= 0 || z->again_from_ms == 0)
        continue;
      day = dr_fmt_local_day (z->again_from_ms, now_ms);
      g_print ("%s%s: again from %s\n", first ? "\n" : "", z->name, day);
      first = FALSE;
    }
}

static gboolean
write_face_map (const char *path, const Session *session, const char *name, guint64 id,
                GArray *coverage, GError **error)
{
  g_autoptr (GArray) zones = g_array_new (FALSE, TRUE, sizeof (DrFaceMapZone));
  g_autofree char *date = session ? dr_fmt_local_time (session->start_ms) : NULL;
  g_autofree char *svg = NULL;
  DrFaceMap map = { 0 };

  for (guint i = 0; i < coverage->len; i++)
    {
      const ZoneCoverage *z = &g_array_index (coverage, ZoneCoverage, i);
      DrFaceMapZone fz;

      if (is_empty_unassigned (z))
        continue;
      fz = (DrFaceMapZone){
        .name = z->name,
        .coverage = z->coverage,
        .passes = z->passes,
        .target_passes = z->info ? z->info->target_passes : 0,
        .rolled_cm2 = z->rolled_cm2,
        .excluded = z->info && z->info->excluded,
        .over_treated = z->over_treated,
        .rolled_excluded = rolled_excluded (z),
        .pressure_episodes = z->pressure_episodes,
      };
      g_array_append_val (zones, fz);
    }
  map.session_id = id;
  map.date = date;
  map.roller = session ? session->roller : NULL;
  map.roller_name = name;
  map.in_progress = session && session->end_ms == 0;
  map.zones = (const DrFaceMapZone *) (void *) zones->data;
  map.n_zones = zones->len;
  svg = dr_face_map_svg (&map);

  if (g_strcmp0 (path, "-") == 0)
    {
      dr_ctl_print (svg);
      return TRUE;
    }
  return g_file_set_contents (path, svg, -1, error);
}

/* The session's needle length in µm (0: not known, the longest class's
 * aftercare). */
static gboolean
fetch_needle_length (DrCtl *ctl, guint64 id, guint16 *needle_length_um, GError **error)
{
  g_autoptr (GVariant) info = NULL;

  *needle_length_um = 0;
  if (!dr_dbus_manager1_call_get_session_info_sync (ctl->manager, id, G_DBUS_CALL_FLAGS_NONE, -1,
                                                    &info, NULL, error))
    return FALSE;
  g_variant_lookup (info, "needle-length-um", "q", needle_length_um);
  return TRUE;
}

/* "Aftercare (0.25 mm needles):" and the table's lines for that needle. */
static void
print_aftercare (guint16 needle_length_um)
{
  if (needle_length_um != 0)
    g_print ("\nAftercare (%.2f mm needles):\n", needle_length_um / 1000.0);
  else
    g_print ("\nAftercare (needle length not known):\n");
  for (const char *const *line = dr_aftercare_for_needle (needle_length_um); *line; line++)
    g_print ("  - %s\n", *line);
}

int
dr_cmd_coverage (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autofree char *svg_path = NULL;
  const GOptionEntry entries[]
      = { { "svg", 0, 0, G_OPTION_ARG_FILENAME, &svg_path,
            "Also draw the face coverage map to FILE (SVG; - for stdout)", "FILE" },
          { NULL } };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) sessions = NULL;
  g_autoptr (GArray) zones = NULL;
  g_autoptr (GArray) coverage = NULL;
  g_autoptr (DrDBusPerson1) person = NULL;
  g_autoptr (GHashTable) rest = NULL;
  DrDBusPerson1 *owner = NULL;
  const Session *session = NULL;
  g_autofree char *name = NULL;
  guint64 id = 0;
  gboolean svg_to_stdout;
  guint16 needle_length_um = 0;
  gint64 now_ms = g_get_real_time () / 1000;
  int status = dr_ctl_parse (ctl, cmd, entries, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc > 2)
    return dr_ctl_usage (cmd, "coverage takes at most one SESSION");
  if (argc == 2 && !parse_session_id (argv[1], TRUE, &id))
    return dr_ctl_usage (
        cmd, "\"%s\" is not a session id (a number from 'dermarollctl sessions', or last)",
        argv[1]);
  svg_to_stdout = g_strcmp0 (svg_path, "-") == 0;
  if (svg_to_stdout && ctl->json)
    return dr_ctl_usage (cmd, "--svg - and --json both want stdout");

  if (!dr_ctl_connect (ctl, &error))
    return dr_ctl_fail (ctl, error);
  status = resolve_person_filter (ctl, cmd, &person);
  if (status >= 0)
    return status;
  sessions = list_sessions (ctl, 0, 0, NULL, NULL, &error);
  if (sessions == NULL)
    return dr_ctl_fail (ctl, error);
  status = pick_session (ctl, sessions, id, id == 0 ? ctl->roller : NULL, person, &session);
  if (status >= 0)
    return status;
  if (id == 0)
    id = session->id;

  zones = dr_zone_list_fetch (ctl->manager, &error);
  if (zones == NULL)
    return dr_ctl_fail (ctl, error);
  if (session != NULL)
    {
      /* Excluded zones and rest are the session's person's; a removed
       * person's session has neither. */
      owner = dr_people_lookup (dr_ctl_people (ctl, NULL), session->person);
      dr_zone_list_set_excluded (zones, owner ? dr_dbus_person1_get_excluded_zones (owner) : NULL);
      if (owner != NULL && (rest = dr_people_rest_status (owner, &error)) == NULL)
        return dr_ctl_fail (ctl, error);
    }
  coverage = fetch_coverage (ctl, id, zones, &error);
  if (coverage == NULL || !apply_events (ctl, id, coverage, &error)
      || !fetch_needle_length (ctl, id, &needle_length_um, &error))
    return dr_ctl_fail (ctl, error);
  for (guint i = 0; rest != NULL && i < coverage->len; i++)
    {
      ZoneCoverage *z = &g_array_index (coverage, ZoneCoverage, i);
      const DrRest *r = g_hash_table_lookup (rest, z->name);

      if (r != NULL && r->free_from_ms > now_ms)
        z->again_from_ms = r->free_from_ms;
    }
  name = roller_name (ctl, session ? session->roller : NULL);

  if (svg_path != NULL && !write_face_map (svg_path, session, name, id, coverage, &error))
    return dr_ctl_failf ("cannot write the face map: %s", error->message);
  if (svg_to_stdout)
    return DR_EXIT_OK;

  if (ctl->json)
    {
      g_autoptr (DrJson) json = dr_json_new (TRUE);

      dr_json_begin_object (json);
      if (session != NULL)
        session_json_members (ctl, json, session);
      else
        dr_json_member_uint (json, "id", id);
      dr_json_member_string (json, "roller_name", name);
      dr_json_key (json, "zones");
      dr_json_begin_array (json);
      for (guint i = 0; i < coverage->len; i++)
        {
          const ZoneCoverage *z = &g_array_index (coverage, ZoneCoverage, i);
          dr_json_begin_object (json);
          dr_json_member_string (json, "zone", z->name);
          dr_json_member_double (json, "coverage", z->coverage);
          dr_json_member_double (json, "passes", z->passes);
          dr_json_key (json, "passes_by_direction");
          dr_json_begin_object (json);
          dr_json_member_double (json, "horizontal", z->horizontal);
          dr_json_member_double (json, "vertical", z->vertical);
          dr_json_member_double (json, "diagonal", z->diagonal);
          dr_json_member_double (json, "unknown", z->unknown);
          dr_json_end_object (json);
          dr_json_key (json, "target_passes");
          if (z->info)
            dr_json_double (json, z->info->target_passes);
          else
            dr_json_null (json);
          dr_json_member_double (json, "rolled_cm2", z->rolled_cm2);
          dr_json_member_double (json, "peak_force_n", z->peak_force_n);
          dr_json_member_bool (json, "excluded", z->info && z->info->excluded);
          dr_json_member_bool (json, "configured", z->info != NULL);
          dr_json_member_bool (json, "on_face", dr_face_map_is_face_zone (z->name));
          dr_json_member_bool (json, "over_treated", z->over_treated);
          dr_json_member_bool (json, "rolled_excluded", rolled_excluded (z));
          dr_json_member_uint (json, "pressure_episodes", z->pressure_episodes);
          dr_json_key (json, "again_from_ms");
          if (z->again_from_ms != 0)
            dr_json_int (json, z->again_from_ms);
          else
            dr_json_null (json);
          {
            DrColour unused;
            g_autofree char *note = zone_note (z, &unused);
            dr_json_member_string (json, "note", note);
          }
          dr_json_end_object (json);
        }
      dr_json_end_array (json);
      dr_json_member_uint (json, "needle_length_um", needle_length_um);
      dr_json_key (json, "aftercare");
      dr_json_begin_array (json);
      for (const char *const *line = dr_aftercare_for_needle (needle_length_um); *line; line++)
        dr_json_string (json, *line);
      dr_json_end_array (json);
      dr_json_end_object (json);
      dr_ctl_print_json (g_steal_pointer (&json));
      return DR_EXIT_OK;
    }

  {
    g_autoptr (DrTable) table = dr_table_new (ctl->colour, "ZONE", "COVERAGE", "", "PASSES",
                                              "ROLLED", "PEAK FORCE", "NOTE", (char *) NULL);
    g_autofree char *text = NULL;
    g_autofree char *when = session ? dr_fmt_local_time (session->start_ms) : NULL;
    g_autofree char *length = session && session->end_ms
                                  ? dr_fmt_duration (session->end_ms - session->start_ms)
                                  : g_strdup ("in progress");
    g_autofree char *mean = session ? dr_fmt_percent (session->mean_coverage) : NULL;

    g_autofree char *roller = session && name ? g_strdup_printf ("%s (%s)", name, session->roller)
                              : session       ? g_strdup (session->roller)
                                              : NULL;

    if (session != NULL)
      g_print ("Session %" G_GUINT64_FORMAT ", %s, for %s, %s, roller %s: mean coverage %s\n\n", id,
               when, owner ? dr_dbus_person1_get_name (owner) : "nobody (a removed person)", length,
               roller, mean);
    else
      g_print ("Session %" G_GUINT64_FORMAT "\n\n", id);

    dr_table_align_right (table, 1);
    dr_table_align_right (table, 3);
    dr_table_align_right (table, 4);
    dr_table_align_right (table, 5);
    for (guint i = 0; i < coverage->len; i++)
      {
        const ZoneCoverage *z = &g_array_index (coverage, ZoneCoverage, i);
        DrColour note_colour;
        g_autofree char *note = NULL;

        if (is_empty_unassigned (z))
          continue;
        note = zone_note (z, &note_colour);

        dr_table_add (table, z->name);
        if (z->info == NULL && g_strcmp0 (z->name, "unassigned") == 0)
          {
            /* No area, hence no coverage or passes. */
            dr_table_add (table, "—");
            dr_table_add (table, "");
            dr_table_add (table, "—");
          }
        else
          {
            dr_table_take_coloured (table, dr_coverage_colour (z->coverage),
                                    dr_fmt_percent (z->coverage));
            dr_table_take (table, dr_text_bar (z->coverage, 10));
            dr_table_take (table, passes_of_target (z));
          }
        dr_table_take (table, dr_fmt_area (z->rolled_cm2));
        dr_table_take (table,
                       z->peak_force_n > 0 ? dr_fmt_newtons (z->peak_force_n) : g_strdup ("—"));
        dr_table_add_coloured (table, note_colour, note);
      }
    text = dr_table_render (table);
    dr_ctl_print (text);
    print_again_from (coverage, now_ms);
    print_aftercare (needle_length_um);
    if (svg_path != NULL)
      g_print ("\nFace map written to %s\n", svg_path);
  }
  return DR_EXIT_OK;
}

/* ---- events ------------------------------------------------------------- */

static char *
variant_text (GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.2f", g_variant_get_double (value)));
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  return g_variant_print (value, FALSE);
}

/* What an event means, in words, from its details (documented per kind in
 * Manager1.GetSessionEvents). Unknown kinds and keys are listed as they
 * come, so a newer daemon's events still show. */
static char *
event_details_text (DrCtl *ctl, gint64 time_ms, const char *kind, GVariant *details)
{
  double force = 0, limit = 0, peak = 0, wear = 0;
  gint64 duration = 0, last = 0;
  guint32 head = 0, frames = 0;

  if (g_str_equal (kind, "pressure-started") && g_variant_lookup (details, "force-n", "d", &force)
      && g_variant_lookup (details, "limit-n", "d", &limit))
    {
      g_autofree char *f = dr_fmt_newtons (force);
      g_autofree char *l = dr_fmt_newtons (limit);
      return g_strdup_printf ("%s, over the %s limit", f, l);
    }
  if (g_str_equal (kind, "pressure-ended") && g_variant_lookup (details, "peak-n", "d", &peak)
      && g_variant_lookup (details, "duration-ms", "x", &duration))
    {
      g_autofree char *p = dr_fmt_newtons (peak);
      g_autofree char *d = dr_fmt_duration (duration);
      return g_strdup_printf ("peak %s, for %s", p, d);
    }
  if (g_str_equal (kind, "excluded"))
    return g_strdup ("contact in an excluded zone");
  if (g_str_equal (kind, "over-treated"))
    return g_strdup ("rolled well past the target passes");
  if (g_str_equal (kind, "too-soon") && g_variant_lookup (details, "last-treated-ms", "x", &last))
    {
      g_autofree char *when = dr_fmt_local_time (last);
      g_autofree char *ago = dr_fmt_duration (time_ms - last);
      return g_strdup_printf ("last treated %s, %s before", when, ago);
    }
  if (g_str_equal (kind, "head-worn") && g_variant_lookup (details, "head-id", "u", &head)
      && g_variant_lookup (details, "wear", "d", &wear))
    {
      g_autofree char *w = dr_fmt_percent (wear);
      return g_strdup_printf ("needle head #%u at %s of its life: replace it", head, w);
    }
  if (g_str_equal (kind, "seq-gap") && g_variant_lookup (details, "frames", "u", &frames))
    return g_strdup_printf ("%u frame%s lost on the way", frames, frames == 1 ? "" : "s");
  if (g_str_equal (kind, "counter-reset"))
    return g_strdup ("the roller's frame counter restarted");

  {
    GString *out = g_string_new (NULL);
    GVariantIter iter;
    const char *key;
    GVariant *value;

    g_variant_iter_init (&iter, details);
    while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
      {
        g_autofree char *text = NULL;
        if (g_str_equal (key, "person")
            && (g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH)
                || g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)))
          {
            /* A person by name, as everywhere else; "/" and a removed
             * person's path are nobody. */
            const char *name = dr_ctl_person_name (ctl, g_variant_get_string (value, NULL));
            g_string_append_printf (out, "%sperson=%s", out->len ? ", " : "",
                                    name ? name : "nobody");
          }
        else if (!g_str_equal (key, "zone"))
          {
            text = variant_text (value);
            g_string_append_printf (out, "%s%s=%s", out->len ? ", " : "", key, text);
          }
        g_variant_unref (value);
      }
    return g_string_free (out, FALSE);
  }
}

static DrColour
event_colour (const char *kind)
{
  if (g_str_equal (kind, "pressure-started") || g_str_equal (kind, "excluded"))
    return DR_COLOUR_RED;
  if (g_str_equal (kind, "over-treated") || g_str_equal (kind, "too-soon")
      || g_str_equal (kind, "head-worn") || g_str_equal (kind, "seq-gap"))
    return DR_COLOUR_YELLOW;
  if (g_str_has_prefix (kind, "session-"))
    return DR_COLOUR_CYAN;
  return DR_COLOUR_NONE;
}

static void
event_json (DrJson *json, gint64 time_ms, const char *kind, GVariant *details)
{
  g_autofree char *time = dr_fmt_iso8601 (time_ms);

  dr_json_begin_object (json);
  dr_json_member_string (json, "time", time);
  dr_json_member_int (json, "time_ms", time_ms);
  dr_json_member_string (json, "kind", kind);
  dr_json_key (json, "details");
  dr_json_variant (json, details);
  dr_json_end_object (json);
}

int
dr_cmd_events (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) events = NULL;
  GVariantIter iter;
  gint64 time_ms;
  const char *kind;
  GVariant *details;
  guint64 id;
  g_autoptr (DrDBusPerson1) person = NULL;
  g_autoptr (GArray) sessions = NULL;
  const Session *session = NULL;
  int status = dr_ctl_parse (ctl, cmd, NULL, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 2)
    return dr_ctl_usage (cmd, "events needs one SESSION");
  if (!parse_session_id (argv[1], TRUE, &id))
    return dr_ctl_usage (
        cmd, "\"%s\" is not a session id (a number from 'dermarollctl sessions', or last)",
        argv[1]);
  if (!dr_ctl_connect (ctl, &error))
    return dr_ctl_fail (ctl, error);
  status = resolve_person_filter (ctl, cmd, &person);
  if (status >= 0)
    return status;
  sessions = list_sessions (ctl, 0, 0, NULL, NULL, &error);
  if (sessions == NULL)
    return dr_ctl_fail (ctl, error);
  status = pick_session (ctl, sessions, id, NULL, person, &session);
  if (status >= 0)
    return status;
  if (id == 0)
    id = session->id;
  if (!dr_dbus_manager1_call_get_session_events_sync (ctl->manager, id, G_DBUS_CALL_FLAGS_NONE, -1,
                                                      &events, NULL, &error))
    return dr_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr (DrJson) json = dr_json_new (TRUE);

      dr_json_begin_array (json);
      g_variant_iter_init (&iter, events);
      while (g_variant_iter_next (&iter, "(x&s@a{sv})", &time_ms, &kind, &details))
        {
          event_json (json, time_ms, kind, details);
          g_variant_unref (details);
        }
      dr_json_end_array (json);
      dr_ctl_print_json (g_steal_pointer (&json));
      return DR_EXIT_OK;
    }

  if (g_variant_n_children (events) == 0)
    {
      g_print ("No events in session %" G_GUINT64_FORMAT ".\n", id);
      return DR_EXIT_OK;
    }
  {
    g_autoptr (DrTable) table
        = dr_table_new (ctl->colour, "TIME", "EVENT", "ZONE", "DETAILS", (char *) NULL);
    g_autofree char *text = NULL;
    g_autofree char *day = NULL;

    g_variant_iter_init (&iter, events);
    while (g_variant_iter_next (&iter, "(x&s@a{sv})", &time_ms, &kind, &details))
      {
        const char *zone = NULL;
        g_autofree char *clock = dr_fmt_local_clock (time_ms);

        if (day == NULL)
          day = dr_fmt_local_time (time_ms);
        /* Milliseconds matter to nobody reading a table. */
        if (strlen (clock) > 8)
          clock[8] = '\0';
        g_variant_lookup (details, "zone", "&s", &zone);
        dr_table_add (table, clock);
        dr_table_add_coloured (table, event_colour (kind), kind);
        dr_table_add (table, zone ? zone : "");
        dr_table_take (table, event_details_text (ctl, time_ms, kind, details));
        g_variant_unref (details);
      }
    text = dr_table_render (table);
    if (session != NULL)
      g_print ("Session %" G_GUINT64_FORMAT " for %s, from %s (local time)\n\n", id,
               session_person_name (ctl, session), day);
    else
      g_print ("Session %" G_GUINT64_FORMAT ", from %s (local time)\n\n", id, day);
    dr_ctl_print (text);
  }
  return DR_EXIT_OK;
}

/* ---- export ------------------------------------------------------------- */

static void
csv_field (GString *out, const char *text, gboolean last)
{
  /* RFC 4180 quoting, but lines end in LF alone: friendlier to grep and
   * awk, and every CSV reader takes it. */
  if (text != NULL && strpbrk (text, ",\"\r\n") != NULL)
    {
      g_string_append_c (out, '"');
      for (const char *p = text; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (out, '"');
          g_string_append_c (out, *p);
        }
      g_string_append_c (out, '"');
    }
  else if (text != NULL)
    g_string_append (out, text);
  g_string_append (out, last ? "\n" : ",");
}

static char *
csv_double (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    return g_strdup ("");
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", value));
}

/* person came last, after the rest: columns only ever get added at the
 * end, so that scripts reading them by position go on working. */
#define CSV_COLUMNS 16
static const char *const csv_header[CSV_COLUMNS] = {
  "record",  "session",  "roller",  "session_start", "session_end",  "time",
  "zone",    "coverage", "passes",  "rolled_cm2",    "peak_force_n", "event",
  "details", "ticks",    "force_n", "person",
};

/* The roller's zone byte as a name: a configured zone, else its number;
 * 255 (the roller did not know) is "". */
static char *
sample_zone_name (GArray *zones, guchar zone)
{
  for (guint i = 0; i < zones->len; i++)
    if (g_array_index (zones, DrZoneInfo, i).id == zone)
      return g_strdup (g_array_index (zones, DrZoneInfo, i).name);
  return zone == 0xFF ? g_strdup ("") : g_strdup_printf ("%u", zone);
}

/* Where the export goes: stdout, or a file next to --output renamed over
 * it at the end (as g_file_set_contents () did: a failed export leaves
 * what was there). Text is written as it is made, in pieces of about
 * FLUSH_BYTES, so that an export of every sample of a year takes the
 * memory of one piece. */
#define FLUSH_BYTES (64 * 1024)

typedef struct
{
  FILE *out;
  char *tmp_path; /* NULL for stdout */
  GString *csv;
  DrJson *json;
  /* CSV cells of every zone byte, and the JSON zone names (NULL: null) */
  char *zone_csv[256];
  char *zone_json[256];
  /* The current session's sample rows: what comes before the time, and
   * the person cell with the line's end */
  char *csv_prefix;
  char *csv_person;
  DrFmtIso8601Cache times;
} Sink;

static gboolean
sink_flush (Sink *sink, GError **error)
{
  gboolean ok = TRUE;

  if (sink->json != NULL)
    ok = dr_json_flush (sink->json, sink->out);
  else if (sink->csv != NULL)
    {
      ok = sink->csv->len == 0
           || fwrite (sink->csv->str, 1, sink->csv->len, sink->out) == sink->csv->len;
      g_string_truncate (sink->csv, 0);
    }
  if (!ok)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s",
                   sink->tmp_path ? sink->tmp_path : "stdout", g_strerror (saved));
    }
  return ok;
}

static gboolean
sink_maybe_flush (Sink *sink, GError **error)
{
  gsize pending = sink->json != NULL ? dr_json_pending (sink->json) : sink->csv->len;

  return pending < FLUSH_BYTES || sink_flush (sink, error);
}

static void
sink_clear (Sink *sink)
{
  if (sink->tmp_path != NULL)
    {
      if (sink->out != NULL)
        fclose (sink->out);
      g_unlink (sink->tmp_path);
      g_free (sink->tmp_path);
    }
  if (sink->csv != NULL)
    g_string_free (sink->csv, TRUE);
  dr_json_free (sink->json);
  for (guint i = 0; i < G_N_ELEMENTS (sink->zone_csv); i++)
    {
      g_free (sink->zone_csv[i]);
      g_free (sink->zone_json[i]);
    }
  g_free (sink->csv_prefix);
  g_free (sink->csv_person);
  dr_fmt_iso8601_cache_clear (&sink->times);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sink, sink_clear)

static gboolean
sink_open (Sink *sink, const char *output, GError **error)
{
  int fd;

  if (output == NULL)
    {
      sink->out = stdout;
      return TRUE;
    }
  sink->tmp_path = g_strdup_printf ("%s.XXXXXX", output);
  fd = g_mkstemp_full (sink->tmp_path, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", sink->tmp_path,
                   g_strerror (saved));
      g_clear_pointer (&sink->tmp_path, g_free);
      return FALSE;
    }
  sink->out = fdopen (fd, "w");
  return TRUE;
}

/* The file in place of --output, or stdout flushed. */
static gboolean
sink_finish (Sink *sink, const char *output, GError **error)
{
  int saved;

  if (!sink_flush (sink, error))
    return FALSE;
  if (sink->tmp_path == NULL)
    return TRUE;
  if (fflush (sink->out) == 0 && fsync (fileno (sink->out)) == 0)
    {
      FILE *out = g_steal_pointer (&sink->out);

      if (fclose (out) == 0 && g_rename (sink->tmp_path, output) == 0)
        {
          g_clear_pointer (&sink->tmp_path, g_free);
          return TRUE;
        }
    }
  saved = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", output,
               g_strerror (saved));
  return FALSE;
}

static void
sink_zone_names (Sink *sink, GArray *zones)
{
  for (guint z = 0; z < G_N_ELEMENTS (sink->zone_csv); z++)
    {
      g_autofree char *name = sample_zone_name (zones, (guchar) z);
      g_autoptr (GString) cell = g_string_new (NULL);

      csv_field (cell, name, FALSE);
      sink->zone_csv[z] = g_string_free (g_steal_pointer (&cell), FALSE);
      sink->zone_json[z] = name[0] == '\0' ? NULL : g_steal_pointer (&name);
    }
}

static gboolean
sample_json (gint64 time_ms, guint32 ticks, guint16 force_mn, guchar zone, gpointer user_data,
             GError **error)
{
  Sink *sink = user_data;
  DrJson *json = sink->json;

  dr_json_begin_object (json);
  dr_json_member_int (json, "time_ms", time_ms);
  dr_json_member_uint (json, "ticks", ticks);
  dr_json_key (json, "force_n");
  if (force_mn == 0xFFFF)
    dr_json_null (json);
  else
    {
      char text[16];
      dr_json_number_text (json, dr_fmt_force_json (force_mn, text));
    }
  dr_json_key (json, "zone");
  dr_json_string (json, sink->zone_json[zone]);
  dr_json_end_object (json);
  return sink_maybe_flush (sink, error);
}

static gboolean
sample_csv (gint64 time_ms, guint32 ticks, guint16 force_mn, guchar zone, gpointer user_data,
            GError **error)
{
  Sink *sink = user_data;
  GString *out = sink->csv;

  /* The cells of csv_row () for a sample, without a string per cell: the
   * columns from coverage to details are empty. */
  g_string_append (out, sink->csv_prefix);
  csv_field (out, dr_fmt_iso8601_cached (&sink->times, time_ms), FALSE);
  g_string_append (out, sink->zone_csv[zone]);
  g_string_append (out, ",,,,,,");
  g_string_append_printf (out, "%" G_GUINT32_FORMAT ",", ticks);
  if (force_mn != 0xFFFF)
    g_string_append_printf (out, "%u.%03u", force_mn / 1000u, force_mn % 1000u);
  g_string_append_c (out, ',');
  g_string_append (out, sink->csv_person);
  return sink_maybe_flush (sink, error);
}

/* @fields: every column but the last, person, which is @person ("" for
 * nobody's session). */
static void
csv_row (GString *out, const char *const *fields, const char *person)
{
  for (int i = 0; i < CSV_COLUMNS - 1; i++)
    csv_field (out, fields[i], FALSE);
  csv_field (out, person, TRUE);
}

int
dr_cmd_export (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_auto (Range) range = { 0 };
  g_autofree char *format = NULL;
  g_autofree char *output = NULL;
  gboolean samples = FALSE;
  const GOptionEntry entries[]
      = { { "since", 0, 0, G_OPTION_ARG_STRING, &range.since,
            "Sessions that started on or after DATE", "DATE" },
          { "until", 0, 0, G_OPTION_ARG_STRING, &range.until,
            "Sessions that started before DATE (a day alone: up to its end)", "DATE" },
          { "format", 0, 0, G_OPTION_ARG_STRING, &format, "csv or json (required)", "FORMAT" },
          { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE, not stdout", "FILE" },
          { "samples", 0, 0, G_OPTION_ARG_NONE, &samples,
            "Every sample too: time, encoder ticks, force, zone, as the roller sent them", NULL },
          { NULL } };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) sessions = NULL;
  g_autoptr (GArray) zones = NULL;
  g_auto (Sink) sink = { 0 };
  g_autofree char *text = NULL;
  g_autoptr (DrDBusPerson1) person = NULL;
  gboolean as_json;
  GString *csv;
  DrJson *json;
  int status = dr_ctl_parse (ctl, cmd, entries, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 1)
    return dr_ctl_usage (cmd, "export takes no arguments");
  if (format == NULL)
    return dr_ctl_usage (cmd, "export needs --format csv or --format json");
  if (!g_str_equal (format, "csv") && !g_str_equal (format, "json"))
    return dr_ctl_usage (cmd, "--format: \"%s\" is neither csv nor json", format);
  as_json = g_str_equal (format, "json");
  status = parse_range (cmd, &range);
  if (status >= 0)
    return status;

  if (!dr_ctl_connect (ctl, &error))
    return dr_ctl_fail (ctl, error);
  status = resolve_person_filter (ctl, cmd, &person);
  if (status >= 0)
    return status;
  sessions = list_sessions (ctl, range.since_ms, range.until_ms, ctl->roller, person, &error);
  if (sessions == NULL)
    return dr_ctl_fail (ctl, error);
  zones = dr_zone_list_fetch (ctl->manager, &error);
  if (zones == NULL)
    return dr_ctl_fail (ctl, error);

  if (!sink_open (&sink, output, &error))
    return dr_ctl_failf ("cannot write the export: %s", error->message);
  sink_zone_names (&sink, zones);
  if (as_json)
    {
      g_autofree char *now = dr_fmt_iso8601 (g_get_real_time () / 1000);
      json = sink.json = dr_json_new (TRUE);
      csv = NULL;
      dr_json_begin_object (json);
      dr_json_member_string (json, "format", "dermaroll-export");
      dr_json_member_int (json, "version", 1);
      dr_json_member_string (json, "exported_at", now);
      dr_json_key (json, "since_ms");
      if (range.since)
        dr_json_int (json, range.since_ms);
      else
        dr_json_null (json);
      dr_json_key (json, "until_ms");
      if (range.until)
        dr_json_int (json, range.until_ms);
      else
        dr_json_null (json);
      dr_json_key (json, "sessions");
      dr_json_begin_array (json);
    }
  else
    {
      json = NULL;
      csv = sink.csv = g_string_new (NULL);
      csv_row (csv, csv_header, csv_header[CSV_COLUMNS - 1]);
    }

  for (guint i = 0; i < sessions->len; i++)
    {
      const Session *s = &g_array_index (sessions, Session, i);
      g_autoptr (GArray) coverage = fetch_coverage (ctl, s->id, zones, &error);
      g_autoptr (GVariant) events = NULL;
      g_autofree char *start = dr_fmt_iso8601 (s->start_ms);
      g_autofree char *end = s->end_ms ? dr_fmt_iso8601 (s->end_ms) : g_strdup ("");
      g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, s->id);
      g_autofree char *mean = csv_double (s->mean_coverage);
      const char *who = dr_ctl_person_name (ctl, s->person);
      GVariantIter iter;
      gint64 time_ms;
      const char *kind;
      GVariant *details;

      if (coverage == NULL
          || !dr_dbus_manager1_call_get_session_events_sync (
              ctl->manager, s->id, G_DBUS_CALL_FLAGS_NONE, -1, &events, NULL, &error))
        return dr_ctl_fail (ctl, error);

      if (as_json)
        {
          dr_json_begin_object (json);
          session_json_members (ctl, json, s);
          dr_json_key (json, "zones");
          dr_json_begin_array (json);
          for (guint z = 0; z < coverage->len; z++)
            {
              const ZoneCoverage *zc = &g_array_index (coverage, ZoneCoverage, z);
              dr_json_begin_object (json);
              dr_json_member_string (json, "zone", zc->name);
              dr_json_member_double (json, "coverage", zc->coverage);
              dr_json_member_double (json, "passes", zc->passes);
              dr_json_member_double (json, "rolled_cm2", zc->rolled_cm2);
              dr_json_member_double (json, "peak_force_n", zc->peak_force_n);
              dr_json_end_object (json);
            }
          dr_json_end_array (json);
          dr_json_key (json, "events");
          dr_json_begin_array (json);
          g_variant_iter_init (&iter, events);
          while (g_variant_iter_next (&iter, "(x&s@a{sv})", &time_ms, &kind, &details))
            {
              event_json (json, time_ms, kind, details);
              g_variant_unref (details);
            }
          dr_json_end_array (json);
          if (samples)
            {
              dr_json_key (json, "samples");
              dr_json_begin_array (json);
              if (!sink_maybe_flush (&sink, &error)
                  || !dr_sample_stream_read (ctl->manager, s->id, sample_json, &sink, NULL, &error))
                return dr_ctl_fail (ctl, error);
              dr_json_end_array (json);
            }
          dr_json_end_object (json);
          if (!sink_maybe_flush (&sink, &error))
            return dr_ctl_failf ("cannot write the export: %s", error->message);
          continue;
        }

      {
        const char *row[CSV_COLUMNS] = { "session", id,   s->roller, start, end,  NULL, NULL, mean,
                                         NULL,      NULL, NULL,      NULL,  NULL, NULL, NULL };
        csv_row (csv, row, who);
      }
      for (guint z = 0; z < coverage->len; z++)
        {
          const ZoneCoverage *zc = &g_array_index (coverage, ZoneCoverage, z);
          g_autofree char *c = csv_double (zc->coverage);
          g_autofree char *p = csv_double (zc->passes);
          g_autofree char *r = csv_double (zc->rolled_cm2);
          g_autofree char *f = csv_double (zc->peak_force_n);
          const char *row[CSV_COLUMNS]
              = { "coverage", id, s->roller, start, end,  NULL, zc->name, c,
                  p,          r,  f,         NULL,  NULL, NULL, NULL };
          csv_row (csv, row, who);
        }
      g_variant_iter_init (&iter, events);
      while (g_variant_iter_next (&iter, "(x&s@a{sv})", &time_ms, &kind, &details))
        {
          g_autofree char *time = dr_fmt_iso8601 (time_ms);
          g_autoptr (DrJson) dj = dr_json_new (FALSE);
          g_autofree char *details_json = NULL;
          const char *zone = NULL;

          /* Details differ by kind: one JSON object per cell keeps them
           * all without a column per key. */
          dr_json_variant (dj, details);
          details_json = dr_json_free_to_string (g_steal_pointer (&dj));
          g_variant_lookup (details, "zone", "&s", &zone);
          {
            const char *row[CSV_COLUMNS]
                = { "event", id,   s->roller, start, end,          time, zone, NULL,
                    NULL,    NULL, NULL,      kind,  details_json, NULL, NULL };
            csv_row (csv, row, who);
          }
          g_variant_unref (details);
        }
      if (samples)
        {
          g_autoptr (GString) cells = g_string_new (NULL);
          const char *prefix[] = { "sample", id, s->roller, start, end };

          for (guint f = 0; f < G_N_ELEMENTS (prefix); f++)
            csv_field (cells, prefix[f], FALSE);
          g_free (sink.csv_prefix);
          sink.csv_prefix = g_strdup (cells->str);
          g_string_truncate (cells, 0);
          csv_field (cells, who, TRUE);
          g_free (sink.csv_person);
          sink.csv_person = g_string_free (g_steal_pointer (&cells), FALSE);
          if (!sink_maybe_flush (&sink, &error)
              || !dr_sample_stream_read (ctl->manager, s->id, sample_csv, &sink, NULL, &error))
            return dr_ctl_fail (ctl, error);
        }
      if (!sink_maybe_flush (&sink, &error))
        return dr_ctl_failf ("cannot write the export: %s", error->message);
    }

  if (as_json)
    {
      dr_json_end_array (json);
      dr_json_end_object (json);
      /* The document's end (its newline) is the writer's. */
      text = dr_json_free_to_string (g_steal_pointer (&sink.json));
      if (fputs (text, sink.out) == EOF)
        return dr_ctl_failf ("cannot write the export: %s", g_strerror (errno));
    }
  if (!sink_finish (&sink, output, &error))
    return dr_ctl_failf ("cannot write the export: %s", error->message);
  if (output != NULL)
    g_printerr ("Exported %u session%s to %s\n", sessions->len, sessions->len == 1 ? "" : "s",
                output);
  return DR_EXIT_OK;
}
