/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* engine-config.c: the treatment rules' defaults and the GKeyFile format
 * that overrides them.
 *
 * Every group and every key is optional:
 *
 *   [engine]
 *   contact-force-n=0.5          contact from this force on, N (> 0, ≤ 50)
 *   session-gap-s=120            a pause this long ends a session, s (> 0, ≤ 86400)
 *   head-life-revolutions=2500   (> 0, ≤ 1000000)
 *   over-treatment-factor=2.0    over-treated at factor × target passes (≥ 1, ≤ 100)
 *
 *   [force-limits]               N (> 0, ≤ 50), by needle length
 *   cosmetic-n=6.0               ≤ 0.3 mm
 *   short-n=5.0                  ≤ 0.5 mm
 *   medium-n=4.0                 ≤ 1.0 mm
 *   long-n=3.0                   longer
 *
 *   [rest-days]                  days (0 .. 3650), same classes
 *   cosmetic=1
 *   short=7
 *   medium=28
 *   long=42
 *
 *   [zone forehead]              overrides the zone of that name, or adds one
 *   id=0                         0 .. 31; new zones only (default: lowest free id)
 *   area-cm2=60                  > 0, ≤ 20000; required for a new zone
 *   target-passes=6              > 0, ≤ 1000
 *   force-limit-n=0              0 .. 50; 0 = the needle-length default
 *   excluded=false
 *
 * Zone names are 1-31 characters of a-z, 0-9 and '-'. [notifications] is
 * the notifier's; any other group is ignored with a warning that names the
 * nearest known one. Every error in the file is reported, with its line: a
 * bad value, an unknown key in a known group, a group or key given twice,
 * a NUL byte.
 */
#include "engine-config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "dr-quote.h"

#define ZONE_GROUP_PREFIX "zone "
#define MAX_SESSION_GAP_S 86400.0
#define MAX_REST_DAYS 3650.0

#define DEFAULT_TARGET_PASSES 6.0

DrNeedleClass
dr_needle_class_for_length (uint16_t needle_length_um)
{
  if (needle_length_um <= 300)
    return DR_NEEDLE_CLASS_COSMETIC;
  if (needle_length_um <= 500)
    return DR_NEEDLE_CLASS_SHORT;
  if (needle_length_um <= 1000)
    return DR_NEEDLE_CLASS_MEDIUM;
  return DR_NEEDLE_CLASS_LONG;
}

void
dr_engine_config_init_defaults (DrEngineConfig *config)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof (*config));
  for (unsigned i = 0; i < DR_N_DEFAULT_ZONES; i++)
    {
      DrZoneSpec *z = &config->zones[i];

      g_strlcpy (z->name, dr_face_zones[i].name, sizeof (z->name));
      z->area_cm2 = dr_face_zones[i].area_cm2;
      z->target_passes = DEFAULT_TARGET_PASSES;
    }
  config->n_zones = DR_N_DEFAULT_ZONES;
  config->contact_force_n = 0.5;
  config->force_limit_n[DR_NEEDLE_CLASS_COSMETIC] = 6.0;
  config->force_limit_n[DR_NEEDLE_CLASS_SHORT] = 5.0;
  config->force_limit_n[DR_NEEDLE_CLASS_MEDIUM] = 4.0;
  config->force_limit_n[DR_NEEDLE_CLASS_LONG] = 3.0;
  config->rest_days[DR_NEEDLE_CLASS_COSMETIC] = 1.0;
  config->rest_days[DR_NEEDLE_CLASS_SHORT] = 7.0;
  config->rest_days[DR_NEEDLE_CLASS_MEDIUM] = 28.0;
  config->rest_days[DR_NEEDLE_CLASS_LONG] = 42.0;
  config->session_gap_ms = 120000;
  config->head_life_revolutions = 2500.0;
  config->over_treatment_factor = 2.0;
}

int
dr_engine_config_zone_by_name (const DrEngineConfig *config, const char *name)
{
  g_return_val_if_fail (config != NULL, -1);
  g_return_val_if_fail (name != NULL, -1);

  if (*name == '\0')
    return -1;
  for (unsigned i = 0; i < config->n_zones && i < DR_MAX_ZONES; i++)
    if (strcmp (config->zones[i].name, name) == 0)
      return (int) i;
  return -1;
}

const char *
dr_engine_config_zone_name (const DrEngineConfig *config, int zone)
{
  g_return_val_if_fail (config != NULL, NULL);

  if (zone < 0 || (unsigned) zone >= config->n_zones || zone >= DR_MAX_ZONES
      || config->zones[zone].name[0] == '\0')
    return NULL;
  return config->zones[zone].name;
}

char *
dr_engine_config_list_zone_names (const DrEngineConfig *config)
{
  GString *names = g_string_new (NULL);

  g_return_val_if_fail (config != NULL, NULL);

  for (unsigned z = 0; z < config->n_zones && z < DR_MAX_ZONES; z++)
    {
      if (config->zones[z].name[0] == '\0')
        continue;
      if (names->len)
        g_string_append (names, ", ");
      g_string_append (names, config->zones[z].name);
    }
  return g_string_free (names, FALSE);
}

double
dr_engine_config_force_limit (const DrEngineConfig *config, int zone, uint16_t needle_length_um)
{
  g_return_val_if_fail (config != NULL, 0.0);

  if (dr_engine_config_zone_name (config, zone) != NULL && config->zones[zone].force_limit_n > 0)
    return config->zones[zone].force_limit_n;
  return config->force_limit_n[dr_needle_class_for_length (needle_length_um)];
}

/* Loading. Everything is applied to a copy that replaces the caller's
 * config only when the whole file is good; every problem in the file is
 * collected, so that one bad value never hides another. */

typedef struct
{
  guint line; /* 0: not known */
  char *message;
} Problem;

typedef struct
{
  GKeyFile *kf;
  const char *origin;
  GArray *problems;  /* of Problem, errors */
  GArray *warnings;  /* of Problem */
  GHashTable *lines; /* "group" → its first line, "group\nkey" → its last one */
} Loader;

typedef struct
{
  const char *group;
  DrZoneSpec spec;
} UnplacedZone;

static void
problem_clear (gpointer data)
{
  Problem *p = data;
  g_free (p->message);
}

static guint
line_of (const Loader *l, const char *group, const char *key)
{
  g_autofree char *k = key != NULL ? g_strconcat (group, "\n", key, NULL) : g_strdup (group);

  return GPOINTER_TO_UINT (g_hash_table_lookup (l->lines, k));
}

G_GNUC_PRINTF (6, 0)
static void
add_problem_v (GArray *to, const Loader *l, guint line, const char *group, const char *key,
               const char *fmt, va_list args)
{
  g_autofree char *msg = g_strdup_vprintf (fmt, args);
  g_autofree char *where
      = line > 0 ? g_strdup_printf ("%s:%u", l->origin, line) : g_strdup (l->origin);
  Problem p = { line, NULL };

  if (group == NULL)
    p.message = g_strdup_printf ("%s: %s", where, msg);
  else if (key != NULL)
    p.message = g_strdup_printf ("%s: [%s] %s: %s", where, group, key, msg);
  else
    p.message = g_strdup_printf ("%s: [%s]: %s", where, group, msg);
  g_array_append_val (to, p);
  /* cppcheck-suppress memleak ; p.message belongs to the array now: problem_clear frees it */
}

/* Records an error at @group/@key (its line from the scan); always FALSE. */
G_GNUC_PRINTF (4, 5)
static gboolean
set_error (const Loader *l, const char *group, const char *key, const char *fmt, ...)
{
  va_list args;

  guint line = line_of (l, group, key);

  /* A key that is missing ("required") is at its group. */
  if (line == 0 && key != NULL)
    line = line_of (l, group, NULL);
  va_start (args, fmt);
  add_problem_v (l->problems, l, line, group, key, fmt, args);
  va_end (args);
  return FALSE;
}

G_GNUC_PRINTF (6, 7)
static void
add_at_line (GArray *to, const Loader *l, guint line, const char *group, const char *key,
             const char *fmt, ...)
{
  va_list args;

  va_start (args, fmt);
  add_problem_v (to, l, line, group, key, fmt, args);
  va_end (args);
}

/* Levenshtein distance, for "did you mean". */
static guint
edit_distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (size_t j = 0; j <= lb; j++)
    row[j] = (guint) j;
  for (size_t i = 1; i <= la; i++)
    {
      guint diag = row[0];

      row[0] = (guint) i;
      for (size_t j = 1; j <= lb; j++)
        {
          guint up = row[j];
          guint cost = a[i - 1] == b[j - 1] ? 0 : 1;

          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
          diag = up;
        }
    }
  return row[lb];
}

/* The candidate nearest to @name when it is near enough to be a typo of
 * it (at most a third of its length, at least 2 edits), else NULL. */
static const char *
nearest (const char *name, const char *const *candidates)
{
  const char *best = NULL;
  guint best_d = G_MAXUINT;
  guint limit = MAX (2, (guint) strlen (name) / 3);

  /* Only the start of a huge name is worth comparing. */
  if (strlen (name) > 256)
    return NULL;
  for (unsigned i = 0; candidates[i] != NULL; i++)
    {
      guint d = edit_distance (name, candidates[i]);

      if (d < best_d)
        {
          best_d = d;
          best = candidates[i];
        }
    }
  return best_d <= limit ? best : NULL;
}

static gboolean
has_key (const Loader *l, const char *group, const char *key)
{
  return g_key_file_has_key (l->kf, group, key, NULL);
}

/* The value as written (stripped), so an error can quote it back. */
static char *
get_raw (const Loader *l, const char *group, const char *key)
{
  char *raw = g_key_file_get_value (l->kf, group, key, NULL);

  return raw != NULL ? g_strstrip (raw) : g_strdup ("");
}

static void
check_keys (const Loader *l, const char *group, const char *const *known)
{
  g_auto (GStrv) keys = g_key_file_get_keys (l->kf, group, NULL, NULL);

  for (unsigned i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      if (!g_strv_contains (known, keys[i]))
        {
          g_autofree char *list = g_strjoinv (", ", (char **) known);
          const char *near = nearest (keys[i], known);

          /* A key the engine does not know could be a typo of a safety
           * setting ("exclude=true"): an error, never a warning. */
          if (near != NULL)
            set_error (l, group, keys[i], "unknown key; did you mean %s? (known: %s)", near, list);
          else
            set_error (l, group, keys[i], "unknown key (known: %s)", list);
        }
    }
}

typedef enum
{
  MIN_EXCLUSIVE, /* value > min */
  MIN_INCLUSIVE, /* value ≥ min */
} MinKind;

/* @rule completes "must be …" in the error message. */
static gboolean
get_number (const Loader *l, const char *group, const char *key, double min, MinKind min_kind,
            double max, const char *rule, double *out)
{
  g_autofree char *raw = get_raw (l, group, key);
  char *end = NULL;
  double v;

  errno = 0;
  v = g_ascii_strtod (raw, &end);
  if (*raw == '\0' || end == raw || *end != '\0' || errno == ERANGE || !isfinite (v)
      || (min_kind == MIN_EXCLUSIVE ? v <= min : v < min) || v > max)
    {
      g_autofree char *quoted = dr_quote (raw);
      return set_error (l, group, key, "must be %s, got %s", rule, quoted);
    }
  *out = v;
  return TRUE;
}

static gboolean
get_boolean (const Loader *l, const char *group, const char *key, bool *out)
{
  g_autofree char *raw = get_raw (l, group, key);

  /* The spellings GKeyFile itself accepts for booleans. */
  if (strcmp (raw, "true") == 0 || strcmp (raw, "1") == 0)
    *out = true;
  else if (strcmp (raw, "false") == 0 || strcmp (raw, "0") == 0)
    *out = false;
  else
    {
      g_autofree char *quoted = dr_quote (raw);
      return set_error (l, group, key, "must be true or false, got %s", quoted);
    }
  return TRUE;
}

/* Upper bounds: far above anything real, low enough that a typo of a few
 * extra digits is caught rather than switching a rule off. */
#define MAX_FORCE_N 50.0
#define MAX_HEAD_LIFE 1000000.0
#define MAX_FACTOR 100.0
#define MAX_AREA_CM2 20000.0
#define MAX_PASSES 1000.0

static void
load_engine_group (const Loader *l, DrEngineConfig *c)
{
  static const char *const keys[] = { "contact-force-n", "session-gap-s", "head-life-revolutions",
                                      "over-treatment-factor", NULL };
  const char *group = "engine";
  double v;

  check_keys (l, group, keys);

  if (has_key (l, group, "contact-force-n")
      && get_number (l, group, "contact-force-n", 0, MIN_EXCLUSIVE, MAX_FORCE_N,
                     "a number > 0 and <= 50", &v))
    c->contact_force_n = v;
  if (has_key (l, group, "session-gap-s")
      && get_number (l, group, "session-gap-s", 0, MIN_EXCLUSIVE, MAX_SESSION_GAP_S,
                     "a number > 0 and <= 86400", &v))
    c->session_gap_ms = MAX (1, llround (v * 1000.0));
  if (has_key (l, group, "head-life-revolutions")
      && get_number (l, group, "head-life-revolutions", 0, MIN_EXCLUSIVE, MAX_HEAD_LIFE,
                     "a number > 0 and <= 1000000", &v))
    c->head_life_revolutions = v;
  if (has_key (l, group, "over-treatment-factor")
      && get_number (l, group, "over-treatment-factor", 1, MIN_INCLUSIVE, MAX_FACTOR,
                     "a number >= 1 and <= 100", &v))
    c->over_treatment_factor = v;
}

static void
load_force_limits_group (const Loader *l, DrEngineConfig *c)
{
  static const char *const keys[] = { "cosmetic-n", "short-n", "medium-n", "long-n", NULL };
  const char *group = "force-limits";

  check_keys (l, group, keys);
  for (unsigned i = 0; i < DR_N_NEEDLE_CLASSES; i++)
    {
      if (has_key (l, group, keys[i]))
        get_number (l, group, keys[i], 0, MIN_EXCLUSIVE, MAX_FORCE_N, "a number > 0 and <= 50",
                    &c->force_limit_n[i]);
    }
}

static void
load_rest_days_group (const Loader *l, DrEngineConfig *c)
{
  static const char *const keys[] = { "cosmetic", "short", "medium", "long", NULL };
  const char *group = "rest-days";

  G_STATIC_ASSERT (G_N_ELEMENTS (keys) == DR_N_NEEDLE_CLASSES + 1);
  check_keys (l, group, keys);
  for (unsigned i = 0; i < DR_N_NEEDLE_CLASSES; i++)
    {
      if (has_key (l, group, keys[i]))
        get_number (l, group, keys[i], 0, MIN_INCLUSIVE, MAX_REST_DAYS, "a number from 0 to 3650",
                    &c->rest_days[i]);
    }
}

static gboolean
valid_zone_name (const char *name)
{
  size_t len = strlen (name);

  if (len == 0 || len >= DR_ZONE_NAME_MAX)
    return FALSE;
  for (size_t i = 0; i < len; i++)
    if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')
          || name[i] == '-'))
      return FALSE;
  return TRUE;
}

static gboolean
zone_id_free (const DrEngineConfig *c, unsigned id)
{
  return id >= c->n_zones || c->zones[id].name[0] == '\0';
}

static void
place_zone (DrEngineConfig *c, unsigned id, const DrZoneSpec *spec)
{
  /* Ids skipped over become "no zone". */
  for (unsigned i = c->n_zones; i < id; i++)
    memset (&c->zones[i], 0, sizeof (c->zones[i]));
  c->zones[id] = *spec;
  if (id >= c->n_zones)
    c->n_zones = id + 1;
}

static void
load_zone_group (const Loader *l, DrEngineConfig *c, const char *group, GArray *unplaced)
{
  static const char *const keys[]
      = { "id", "area-cm2", "target-passes", "force-limit-n", "excluded", NULL };
  const char *name = group + MIN (strlen (group), strlen (ZONE_GROUP_PREFIX));
  DrZoneSpec spec;
  int existing;
  int id;
  gboolean ok = TRUE;

  if (!valid_zone_name (name))
    {
      g_autofree char *quoted = dr_quote (name);
      set_error (l, group, NULL, "a zone name must be 1-%d characters of a-z, 0-9 and -, got %s",
                 DR_ZONE_NAME_MAX - 1, quoted);
      return;
    }
  check_keys (l, group, keys);

  existing = dr_engine_config_zone_by_name (c, name);
  if (existing >= 0)
    {
      spec = c->zones[existing];
    }
  else
    {
      memset (&spec, 0, sizeof (spec));
      g_strlcpy (spec.name, name, sizeof (spec.name));
      spec.target_passes = DEFAULT_TARGET_PASSES;
    }
  id = existing;

  if (has_key (l, group, "id"))
    {
      g_autofree char *raw = get_raw (l, group, "id");
      g_autofree char *quoted = dr_quote (raw);
      gint64 v;

      if (!g_ascii_string_to_signed (raw, 10, 0, DR_MAX_ZONES - 1, &v, NULL))
        ok = set_error (l, group, "id", "must be an integer from 0 to %d, got %s", DR_MAX_ZONES - 1,
                        quoted);
      /* The roller's motion sensor reports ids, so moving a zone would
       * silently send its samples elsewhere. */
      else if (existing >= 0 && v != existing)
        ok = set_error (l, group, "id", "zone %s is id %d and can't be moved, got %s", name,
                        existing, quoted);
      else if (existing < 0 && !zone_id_free (c, (unsigned) v))
        ok = set_error (l, group, "id", "duplicate id: %d is already zone %s, got %s", (int) v,
                        c->zones[v].name, quoted);
      else
        id = (int) v;
    }

  if (has_key (l, group, "area-cm2"))
    ok &= get_number (l, group, "area-cm2", 0, MIN_EXCLUSIVE, MAX_AREA_CM2,
                      "a number > 0 and <= 20000", &spec.area_cm2);
  else if (existing < 0)
    ok = set_error (l, group, "area-cm2", "required for a new zone");
  if (has_key (l, group, "target-passes"))
    ok &= get_number (l, group, "target-passes", 0, MIN_EXCLUSIVE, MAX_PASSES,
                      "a number > 0 and <= 1000", &spec.target_passes);
  if (has_key (l, group, "force-limit-n"))
    ok &= get_number (l, group, "force-limit-n", 0, MIN_INCLUSIVE, MAX_FORCE_N,
                      "a number from 0 to 50 (0 = the needle-length default)", &spec.force_limit_n);
  if (has_key (l, group, "excluded"))
    ok &= get_boolean (l, group, "excluded", &spec.excluded);

  if (!ok)
    return;
  if (id >= 0)
    {
      place_zone (c, (unsigned) id, &spec);
    }
  else
    {
      UnplacedZone u = { group, spec };

      g_array_append_val (unplaced, u);
    }
}

/* Groups of the file that are not the engine's: the notifier reads them. */
static const char *const other_groups[] = { "notifications", NULL };

static gboolean
is_zone_group (const char *group)
{
  return g_str_has_prefix (group, ZONE_GROUP_PREFIX) || strcmp (group, "zone") == 0;
}

static gboolean
is_known_group (const char *group)
{
  return strcmp (group, "engine") == 0 || strcmp (group, "force-limits") == 0
         || strcmp (group, "rest-days") == 0 || is_zone_group (group)
         || g_strv_contains (other_groups, group);
}

static void
warn_unknown_group (Loader *l, const DrEngineConfig *c, const char *group)
{
  g_autoptr (GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *quoted = dr_quote_bare (group);
  const char *near;

  g_ptr_array_add (candidates, g_strdup ("engine"));
  g_ptr_array_add (candidates, g_strdup ("force-limits"));
  g_ptr_array_add (candidates, g_strdup ("rest-days"));
  for (unsigned i = 0; other_groups[i] != NULL; i++)
    g_ptr_array_add (candidates, g_strdup (other_groups[i]));
  for (unsigned z = 0; z < c->n_zones; z++)
    if (c->zones[z].name[0] != '\0')
      g_ptr_array_add (candidates, g_strconcat (ZONE_GROUP_PREFIX, c->zones[z].name, NULL));
  g_ptr_array_add (candidates, NULL);

  near = nearest (group, (const char *const *) candidates->pdata);
  if (near != NULL)
    add_at_line (l->warnings, l, line_of (l, group, NULL), NULL, NULL,
                 "unknown group [%s], ignored; did you mean [%s]?", quoted, near);
  else
    add_at_line (l->warnings, l, line_of (l, group, NULL), NULL, NULL,
                 "unknown group [%s], ignored (known: [engine], [force-limits], [rest-days], "
                 "[zone NAME], [notifications])",
                 quoted);
}

/* Our own pass over the lines: GKeyFile merges a group given twice and
 * keeps the last of a key given twice without a word, and it knows no
 * line numbers. Records the line of every group and key. */
static void
scan_lines (Loader *l, const char *data, gsize len)
{
  g_autofree char *group = NULL;
  const char *p = data, *end = data + len;
  guint line = 0;

  while (p < end)
    {
      const char *eol = memchr (p, '\n', (size_t) (end - p));
      g_autofree char *text = g_strndup (p, (gsize) ((eol ? eol : end) - p));
      char *s = g_strchug (text);

      line++;
      p = eol ? eol + 1 : end;
      if (*s == '\0' || *s == '#')
        continue;
      if (*s == '[')
        {
          char *close = strchr (s, ']');

          if (close == NULL)
            continue; /* GKeyFile reports it */
          g_free (group);
          group = g_strndup (s + 1, (gsize) (close - s - 1));
          if (g_hash_table_contains (l->lines, group))
            {
              g_autofree char *quoted = dr_quote_bare (group);
              add_at_line (l->problems, l, line, NULL, NULL,
                           "group [%s] given twice (first at line %u): merge them into one", quoted,
                           line_of (l, group, NULL));
            }
          else
            g_hash_table_insert (l->lines, g_strdup (group), GUINT_TO_POINTER (line));
          continue;
        }
      if (group != NULL)
        {
          char *eq = strchr (s, '=');
          g_autofree char *key = NULL;
          g_autofree char *k = NULL;

          if (eq == NULL)
            continue; /* GKeyFile reports it */
          key = g_strchomp (g_strndup (s, (gsize) (eq - s)));
          k = g_strconcat (group, "\n", key, NULL);
          if (g_hash_table_contains (l->lines, k))
            {
              g_autofree char *quoted = dr_quote_bare (key);
              add_at_line (l->problems, l, line, group, quoted,
                           "given twice (first at line %u): only one may stay",
                           GPOINTER_TO_UINT (g_hash_table_lookup (l->lines, k)));
            }
          /* GKeyFile keeps the last one: a problem with the value is on
           * its line. */
          g_hash_table_insert (l->lines, g_steal_pointer (&k), GUINT_TO_POINTER (line));
        }
    }
}

static gint
problem_compare (gconstpointer a, gconstpointer b)
{
  const Problem *pa = a, *pb = b;

  /* Unknown lines (0) last. */
  if (pa->line == pb->line)
    return 0;
  if (pa->line == 0)
    return 1;
  if (pb->line == 0)
    return -1;
  return pa->line < pb->line ? -1 : 1;
}

/* A stable sort: problems on one line keep the order they were found in. */
static void
sort_problems (GArray *problems)
{
  for (guint i = 1; i < problems->len; i++)
    for (guint j = i; j > 0; j--)
      {
        Problem *a = &g_array_index (problems, Problem, j - 1);
        Problem *b = &g_array_index (problems, Problem, j);
        Problem t;

        if (problem_compare (a, b) <= 0)
          break;
        t = *a;
        *a = *b;
        *b = t;
      }
}

static char *
join_problems (GArray *problems)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < problems->len; i++)
    {
      if (i > 0)
        g_string_append_c (s, '\n');
      g_string_append (s, g_array_index (problems, Problem, i).message);
    }
  return g_string_free (s, FALSE);
}

static void
hand_over_warnings (GArray *warnings, GPtrArray *out)
{
  sort_problems (warnings);
  for (guint i = 0; i < warnings->len; i++)
    {
      Problem *w = &g_array_index (warnings, Problem, i);

      if (out != NULL)
        g_ptr_array_add (out, g_steal_pointer (&w->message));
      else
        g_message ("%s", w->message);
    }
}

gboolean
dr_engine_config_load_bytes (DrEngineConfig *config, const char *data, gsize len,
                             const char *origin, GPtrArray *warnings, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GArray) unplaced = g_array_new (FALSE, FALSE, sizeof (UnplacedZone));
  g_autoptr (GArray) problems = g_array_new (FALSE, FALSE, sizeof (Problem));
  g_autoptr (GArray) warns = g_array_new (FALSE, FALSE, sizeof (Problem));
  g_autoptr (GHashTable) lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) groups = NULL;
  const char *nul;
  DrEngineConfig work;
  Loader l = { kf, origin != NULL ? origin : "(config)", problems, warns, lines };

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_array_set_clear_func (problems, problem_clear);
  g_array_set_clear_func (warns, problem_clear);

  /* GKeyFile would stop at a NUL and read the rest as nothing at all. */
  nul = len > 0 ? memchr (data, '\0', len) : NULL;
  if (nul != NULL)
    {
      guint line = 1;

      for (const char *q = data; q < nul; q++)
        line += *q == '\n';
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE,
                   "%s:%u: a NUL byte at offset %" G_GSIZE_FORMAT
                   ": this is not a text config file",
                   l.origin, line, (gsize) (nul - data));
      return FALSE;
    }
  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", l.origin);
      return FALSE;
    }
  scan_lines (&l, data, len);

  work = *config;
  groups = g_key_file_get_groups (kf, NULL);
  for (unsigned i = 0; groups[i] != NULL; i++)
    {
      const char *group = groups[i];

      if (strcmp (group, "engine") == 0)
        load_engine_group (&l, &work);
      else if (strcmp (group, "force-limits") == 0)
        load_force_limits_group (&l, &work);
      else if (strcmp (group, "rest-days") == 0)
        load_rest_days_group (&l, &work);
      else if (is_zone_group (group))
        load_zone_group (&l, &work, group, unplaced);
      else if (!is_known_group (group))
        warn_unknown_group (&l, config, group);
    }

  /* New zones without an id go after every explicit id is placed, so an
   * explicit id later in the file never collides with a generated one. */
  for (unsigned i = 0; i < unplaced->len; i++)
    {
      const UnplacedZone *u = &g_array_index (unplaced, UnplacedZone, i);
      unsigned id = 0;

      while (id < DR_MAX_ZONES && !zone_id_free (&work, id))
        id++;
      if (id == DR_MAX_ZONES)
        {
          set_error (&l, u->group, "id", "no free zone id (at most %d zones)", DR_MAX_ZONES);
          break;
        }
      place_zone (&work, id, &u->spec);
    }

  hand_over_warnings (warns, warnings);
  if (problems->len > 0)
    {
      g_autofree char *all = NULL;

      sort_problems (problems);
      all = join_problems (problems);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, all);
      return FALSE;
    }
  *config = work;
  return TRUE;
}

gboolean
dr_engine_config_load_data (DrEngineConfig *config, const char *data, const char *origin,
                            GError **error)
{
  g_return_val_if_fail (data != NULL, FALSE);

  return dr_engine_config_load_bytes (config, data, strlen (data), origin, NULL, error);
}

gboolean
dr_engine_config_load_file_full (DrEngineConfig *config, const char *path, GPtrArray *warnings,
                                 GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  GStatBuf st;

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (g_stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR, "%s: is a directory, not a config file",
                   path);
      return FALSE;
    }
  /* GLib's message already names the file and says why (missing,
   * permission denied). */
  if (!g_file_get_contents (path, &data, &len, error))
    return FALSE;
  return dr_engine_config_load_bytes (config, data, len, path, warnings, error);
}

gboolean
dr_engine_config_load_file (DrEngineConfig *config, const char *path, GError **error)
{
  return dr_engine_config_load_file_full (config, path, NULL, error);
}
