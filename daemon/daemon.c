/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon.c: builds dermarolld from its parts and routes between them.
 *
 * Startup reads what the store knows synchronously, before the main loop
 * runs; from then on everything is asynchronous: the store on its worker
 * thread, BlueZ and the bus through async GDBus calls.
 */
#include "daemon.h"

#include "dr-error.h"
#include "household.h"
#include "person.h"
#include "rest-timer.h"
#include "roller.h"
#include "service.h"
#include "store.h"

struct _DrDaemon
{
  DrDaemonOptions options;
  DrEngineConfig config;
  DrStoreWorker *store;
  DrBluez *bluez;
  DrService *service;
  DrNotifier *notifier;
  DrNotifierOptions notifier_options;
  GDBusConnection *system_bus;
  GDBusConnection *publish_bus;
  GMainLoop *loop;

  DrHousehold *household;
  DrRestTimer *rest_timer; /* "zone ready": one timer over every skin */
  GPtrArray *people;       /* DrStorePerson, from the store, until they are exported */

  GHashTable *rollers;      /* address → DrRoller */
  GHashTable *pair_made;    /* addresses whose roller a Pair made (set) */
  GPtrArray *known_rollers; /* from the store, until the rollers are made */
  gboolean write_failed;    /* since the last commit report */
  gboolean store_failing;   /* since the last commit without a failed write */
  /* The database was found damaged and replaced: said in StoreError until
   * dermarolld restarts, whatever commits succeed in the fresh one. */
  char *damage_message;
  char *start_moved_to; /* what dr_store_open_or_replace () moved aside */
  char *db_path;        /* for the exports' own read-only connections */
  char *start_damage;
  GCancellable *app_cancellable; /* ActivateAction calls to the desktop app */
  gboolean told_no_app;          /* its absence was logged */
  gboolean checked;              /* the integrity check was queued */
  gboolean name_lost;            /* another dermarolld has org.dermaroll */
};

/* ---- the desktop app ------------------------------------------------- */

#define APP_ID "org.dermaroll.App"
#define APP_PATH "/org/dermaroll/App"

static void
activate_action_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  DrDaemon *self;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  /* The app is optional: a daemon without it is not in trouble. */
  if (!self->told_no_app)
    g_info ("cannot open the desktop app at the session: %s", error->message);
  self->told_no_app = TRUE;
}

/* A click on a notification about a session: the app opens at it, started
 * by D-Bus activation if need be (org.freedesktop.Application, which
 * GApplication exports). */
static void
on_session_activated (DrNotifier *notifier, guint64 session_id, gpointer user_data)
{
  DrDaemon *self = user_data;
  GVariantBuilder parameter;

  if (self->options.system)
    return;
  g_variant_builder_init (&parameter, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&parameter, "v", g_variant_new_uint64 (session_id));
  g_dbus_connection_call (
      self->publish_bus, APP_ID, APP_PATH, "org.freedesktop.Application", "ActivateAction",
      g_variant_new ("(sava{sv})", "show-session", &parameter, NULL), NULL, G_DBUS_CALL_FLAGS_NONE,
      -1, self->app_cancellable, activate_action_done, self);
}

/* ---- rest ------------------------------------------------------------- */

/* Today the household is one skin, person 0; with people, each person's
 * treatments go to the timer under their own id. */
/* The timer follows every person's skin: the household says when one changed. */
static void
on_person_changed (DrHousehold *household, gint64 person_id, gpointer user_data)
{
  DrDaemon *self = user_data;
  const DrTreatment *treatments;
  gsize n;

  if (self->rest_timer == NULL)
    return;
  if (!dr_household_has_person (household, person_id))
    {
      dr_rest_timer_remove_person (self->rest_timer, (guint) person_id);
      return;
    }
  treatments = dr_household_get_treatments (household, person_id, &n);
  dr_rest_timer_set_treatments (self->rest_timer, (guint) person_id, treatments, n);
}

static void
on_zone_ready (DrRestTimer *timer, guint person_id, int zone, gpointer user_data)
{
  DrDaemon *self = user_data;
  const char *name = dr_engine_config_zone_name (&self->config, zone);
  const char *person = dr_household_get_person_name (self->household, person_id);

  g_info ("%s is ready for the next session (person %u, %s)", name ? name : "?", person_id,
          person ? person : "removed");
  if (self->notifier != NULL && name != NULL && person != NULL)
    dr_notifier_zone_ready (self->notifier, person_id, person, name);
}

/* The monotonic timer stood still while the machine slept. */
static void
on_resumed (DrBluez *bluez, gpointer user_data)
{
  DrDaemon *self = user_data;

  if (self->rest_timer != NULL)
    dr_rest_timer_rearm (self->rest_timer);
}

/* ---- rollers ----------------------------------------------------------- */

static void
on_zone_treated (DrRoller *roller, gint64 person_id, int zone, gint64 time_ms,
                 guint needle_length_um, gpointer user_data)
{
  DrDaemon *self = user_data;
  DrTreatment treatment = { zone, time_ms, (uint16_t) needle_length_um };
  GHashTableIter iter;
  gpointer other;

  dr_household_add_treatment (self->household, person_id, &treatment);
  /* Zones are the person's skin, not the roller's: every roller of the
   * person learns it. */
  g_hash_table_iter_init (&iter, self->rollers);
  while (g_hash_table_iter_next (&iter, NULL, &other))
    if (dr_roller_get_person_id (other) == person_id)
      dr_roller_add_treatment (other, &treatment);
}

/* A roller in the table, not yet on the bus. */
static DrRoller *
make_roller (DrDaemon *self, const char *address, const char *name, const DrRollerStored *stored)
{
  const char *names[4] = { "bluez", "address" };
  GValue values[4] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  guint n = 2;
  g_autoptr (DrBluezLink) link = NULL;
  DrRoller *roller;

  g_value_set_object (g_value_init (&values[0], DR_TYPE_BLUEZ), self->bluez);
  g_value_set_string (g_value_init (&values[1], G_TYPE_STRING), address);
  /* The tests' timings, when given; the link's own otherwise. */
  if (self->options.discovery_timeout_s)
    {
      names[n] = "discovery-timeout";
      g_value_set_uint (g_value_init (&values[n++], G_TYPE_UINT),
                        self->options.discovery_timeout_s);
    }
  if (self->options.backoff_min_ms)
    {
      names[n] = "backoff-min-ms";
      g_value_set_uint (g_value_init (&values[n++], G_TYPE_UINT), self->options.backoff_min_ms);
    }
  link = DR_BLUEZ_LINK (g_object_new_with_properties (DR_TYPE_BLUEZ_LINK, n, names, values));
  for (guint i = 0; i < n; i++)
    g_value_unset (&values[i]);
  roller = dr_roller_new (address, name, stored, self->store, link, self->notifier, &self->config,
                          self->household);

  g_signal_connect (roller, "zone-treated", G_CALLBACK (on_zone_treated), self);
  g_hash_table_insert (self->rollers, g_strdup (address), roller);
  return roller;
}

static DrRoller *
add_roller (DrDaemon *self, const char *address, const char *name, const DrRollerStored *stored)
{
  DrRoller *roller = make_roller (self, address, name, stored);

  dr_service_export_roller (self->service, roller);
  return roller;
}

/* For a Pair: a roller nobody knew is remembered as made by it, so that
 * a Pair that fails leaves nothing behind. */
static DrRoller *
ensure_roller (DrDaemon *self, const char *address, const char *name)
{
  DrRoller *roller = g_hash_table_lookup (self->rollers, address);

  if (roller != NULL)
    return roller;
  g_hash_table_add (self->pair_made, g_strdup (address));
  return add_roller (self, address, name, NULL);
}

/* Off the bus and out of the table; the roller stops once the calls that
 * still hold it are done. */
static void
drop_roller (DrDaemon *self, DrRoller *roller)
{
  const char *address = dr_roller_get_address (roller);

  if (g_hash_table_lookup (self->rollers, address) != roller)
    return;
  g_info ("%s: removed from the bus", address);
  g_hash_table_remove (self->pair_made, address);
  dr_service_unexport_roller (self->service, roller);
  dr_roller_shutdown (roller);
  g_hash_table_remove (self->rollers, address);
}

static void
on_pair_failed (DrService *service, DrRoller *roller, gpointer user_data)
{
  DrDaemon *self = user_data;

  if (g_hash_table_contains (self->pair_made, dr_roller_get_address (roller))
      && dr_roller_is_unused (roller))
    drop_roller (self, roller);
}

static void
on_forgotten (DrService *service, DrRoller *roller, gpointer user_data)
{
  DrDaemon *self = user_data;

  if (dr_roller_get_forget_removes (roller))
    drop_roller (self, roller);
}

/* ---- callbacks --------------------------------------------------------- */

static void
on_committed (DrStoreWorker *worker, guint64 serial, gpointer user_data)
{
  DrDaemon *self = user_data;
  GHashTableIter iter;
  gpointer roller;

  /* A commit with no failed write means the store is well again. */
  if (!self->write_failed)
    {
      self->store_failing = FALSE;
      if (self->service)
        dr_service_set_store_error (self->service,
                                    self->damage_message ? self->damage_message : "");
    }
  self->write_failed = FALSE;

  g_hash_table_iter_init (&iter, self->rollers);
  while (g_hash_table_iter_next (&iter, NULL, &roller))
    dr_roller_committed (roller, serial);
}

static void
on_write_failed (DrStoreWorker *worker, guint64 serial, const GError *error, gpointer user_data)
{
  DrDaemon *self = user_data;
  GHashTableIter iter;
  gpointer roller;

  /* Once per spell of failures: the notification stays until the store
   * writes again, and its text names the cause (a full disk, a read-only
   * file...). */
  if (!self->store_failing && self->notifier)
    {
      g_autofree char *body = g_strdup_printf (
          "%s. Nothing is lost: the roller keeps every record until it is stored.", error->message);
      dr_notifier_store_problem (self->notifier, "The dermaroll database cannot be written", body);
    }
  self->write_failed = TRUE;
  self->store_failing = TRUE;
  if (self->service)
    dr_service_set_store_error (self->service, error->message);
  g_hash_table_iter_init (&iter, self->rollers);
  while (g_hash_table_iter_next (&iter, NULL, &roller))
    dr_roller_write_failed (roller, serial);
}

/* Said loudly, three ways: the log (the worker or the store logged it
 * already, with the file), Manager1.StoreError and a notification. */
static void
report_damage (DrDaemon *self, const char *found, const char *moved_to)
{
  g_autofree char *body = NULL;

  g_free (self->damage_message);
  if (moved_to != NULL)
    {
      self->damage_message = g_strdup_printf (
          "The database was damaged (%s). It was moved to %s and a fresh database was started;"
          " run dermarolld --salvage %s to recover its readable frames.",
          found, moved_to, moved_to);
      body = g_strdup_printf ("It was moved aside to %s; new records go to a fresh database. "
                              "dermarolld --salvage %s recovers the old records.",
                              moved_to, moved_to);
    }
  else
    {
      self->damage_message = g_strdup_printf (
          "The database is damaged (%s) and could not be replaced: nothing is stored.", found);
      body = g_strdup_printf ("%s: nothing more is stored until dermarolld is restarted.", found);
    }
  g_warning ("%s", self->damage_message);
  if (self->service)
    dr_service_set_store_error (self->service, self->damage_message);
  if (self->notifier)
    dr_notifier_store_problem (self->notifier, "The dermaroll database is damaged", body);
}

static void
on_damaged (DrStoreWorker *worker, const char *found, const char *moved_to, gpointer user_data)
{
  report_damage (user_data, found, moved_to);
}

/* Every store worker signal is connected here, and only here. */
static void
connect_store (DrDaemon *self)
{
  g_signal_connect (self->store, "committed", G_CALLBACK (on_committed), self);
  g_signal_connect (self->store, "write-failed", G_CALLBACK (on_write_failed), self);
  g_signal_connect (self->store, "damaged", G_CALLBACK (on_damaged), self);
}

static void
on_roller_seen (DrBluez *bluez, const char *address, const char *name, int rssi, gpointer user_data)
{
  DrDaemon *self = user_data;
  DrRoller *roller = g_hash_table_lookup (self->rollers, address);

  if (roller != NULL)
    {
      dr_roller_update_seen (roller, name, rssi);
      return;
    }
  /* Exported with its RSSI: InterfacesAdded is all that a client sees of a
   * roller that appears (dermarollctl scan prints it then), not 0 followed
   * by a change. */
  roller = make_roller (self, address, name, NULL);
  dr_roller_update_seen (roller, name, rssi);
  dr_service_export_roller (self->service, roller);
}

static void
on_available_changed (DrBluez *bluez, GParamSpec *pspec, gpointer user_data)
{
  gboolean available = dr_bluez_is_available (bluez);

  g_info ("bluetoothd %s",
          available ? "with a powered adapter is there" : "or a powered adapter is missing");
}

/* ---- startup ----------------------------------------------------------- */

typedef struct
{
  char *address;
  char *name;
  DrRollerStored stored;
} KnownRoller;

static void
known_roller_free (gpointer data)
{
  KnownRoller *known = data;
  g_free (known->address);
  g_free (known->name);
  g_clear_pointer (&known->stored.unacked_keys, g_array_unref);
  g_free (known);
}

/* What the user switched with SetNotificationEnabled overrides the config
 * file's [notifications] group, which only gives the default. */
static void
apply_notification_choices (DrDaemon *self, DrStore *store)
{
  g_autoptr (GHashTable) choices = dr_store_notification_choices (store);
  GHashTableIter iter;
  gpointer key, enabled;

  g_hash_table_iter_init (&iter, choices);
  while (g_hash_table_iter_next (&iter, &key, &enabled))
    {
      DrNotifyKind kind;

      if (dr_notify_kind_from_key (key, &kind))
        self->notifier_options.enabled[kind] = GPOINTER_TO_INT (enabled);
      else
        g_info ("%s: setting for notification kind \"%s\", which this version does not have; "
                "kept",
                dr_store_get_path (store), (const char *) key);
    }
}

static GPtrArray *
load_store (DrDaemon *self, DrStore *store, GError **error)
{
  g_autoptr (GPtrArray) rollers = NULL;
  g_autoptr (GPtrArray) known = g_ptr_array_new_with_free_func (known_roller_free);
  g_autoptr (GPtrArray) people = NULL;
  g_autoptr (GHashTable) head_revs = NULL;
  guint64 last_session_id;
  g_autoptr (GHashTable) treatments = NULL;

  if (!dr_store_max_session_id (store, &last_session_id, error))
    return NULL;
  treatments = dr_store_treatments_by_person (store, &self->config, error);
  if (treatments == NULL)
    return NULL;
  people = dr_store_list_people (store, error);
  if (people == NULL)
    return NULL;
  head_revs = dr_store_list_head_revolutions (store, error);
  if (head_revs == NULL)
    return NULL;
  self->household = dr_household_new (last_session_id, dr_store_default_person (store), head_revs);
  if (self->rest_timer != NULL)
    g_signal_handlers_disconnect_by_data (self->rest_timer, self);
  g_clear_object (&self->rest_timer);
  self->rest_timer = dr_rest_timer_new (&self->config);
  g_signal_connect (self->rest_timer, "zone-ready", G_CALLBACK (on_zone_ready), self);
  g_signal_connect (self->household, "person-changed", G_CALLBACK (on_person_changed), self);
  for (guint i = 0; i < people->len; i++)
    {
      DrStorePerson *p = g_ptr_array_index (people, i);
      gboolean excluded[DR_MAX_ZONES] = { FALSE };

      /* The configuration's excluded zones are everyone's; the stored ones
       * the person's own. */
      for (unsigned z = 0; z < self->config.n_zones && z < DR_MAX_ZONES; z++)
        excluded[z] = self->config.zones[z].excluded;
      for (char **z = p->excluded_zones; *z; z++)
        {
          int id = dr_engine_config_zone_by_name (&self->config, *z);
          if (id >= 0)
            excluded[id] = TRUE;
          else
            g_warning ("%s: excluded zone \"%s\" of person %" G_GINT64_FORMAT
                       " is not configured any more; ignored",
                       dr_store_get_path (store), *z, p->id);
        }
      dr_household_add_person (self->household, p->id, g_hash_table_lookup (treatments, &p->id),
                               excluded);
    }
  g_clear_pointer (&self->people, g_ptr_array_unref);
  self->people = g_steal_pointer (&people);
  apply_notification_choices (self, store);

  rollers = dr_store_list_rollers (store, error);
  if (rollers == NULL)
    return NULL;
  for (guint i = 0; i < rollers->len; i++)
    {
      DrStoreRoller *r = g_ptr_array_index (rollers, i);
      KnownRoller *k = g_new0 (KnownRoller, 1);

      k->address = g_strdup (r->address);
      k->name = g_strdup (r->name);
      k->stored.roller_id = r->id;
      k->stored.paired = r->paired;
      k->stored.person_id = r->person_id;
      g_ptr_array_add (known, k);
      /* Frames stored but never acknowledged may come again: recognise them. */
      k->stored.unacked_keys = dr_store_unacked_frame_keys (store, r->id, error);
      if (k->stored.unacked_keys == NULL)
        return NULL;
      if (!dr_store_malformed_counts (store, r->id, &k->stored.malformed_kept,
                                      &k->stored.malformed_dropped, error))
        return NULL;
      if (!dr_store_last_session (store, r->id, &k->stored.last_session_id,
                                  &k->stored.last_session_start_ms, &k->stored.last_session_end_ms,
                                  &k->stored.last_session_resumable, error))
        return NULL;
    }
  return g_steal_pointer (&known);
}

gboolean
dr_daemon_load_config (const char *path, DrEngineConfig *config,
                       DrNotifierOptions *notifier_options, GPtrArray *warnings, GError **error)
{
  g_autoptr (GError) engine_error = NULL;
  g_autoptr (GError) notifier_error = NULL;
  DrEngineConfig engine = *config;
  DrNotifierOptions notify = *notifier_options;
  GString *all;

  g_return_val_if_fail (path != NULL, FALSE);

  dr_engine_config_load_file_full (&engine, path, warnings, &engine_error);
  /* The notifier's group only when the file as a whole could be read
   * (a missing file, a directory, a NUL byte, a syntax error are said
   * once). */
  if (engine_error == NULL || engine_error->domain == G_IO_ERROR)
    dr_notifier_options_load_file (&notify, path, &notifier_error);
  if (engine_error == NULL && notifier_error == NULL)
    {
      *config = engine;
      *notifier_options = notify;
      return TRUE;
    }
  all = g_string_new (NULL);
  if (engine_error != NULL)
    g_string_append (all, engine_error->message);
  if (notifier_error != NULL)
    g_string_append_printf (all, "%s%s", all->len ? "\n" : "", notifier_error->message);
  g_set_error_literal (error, DR_ERROR, DR_ERROR_CONFIG, all->str);
  g_string_free (all, TRUE);
  return FALSE;
}

DrDaemon *
dr_daemon_new (const DrDaemonOptions *options, GError **error)
{
  g_autoptr (DrStore) store = NULL;
  g_autofree char *db_path = NULL;
  g_autoptr (GError) local = NULL;
  DrDaemon *self = g_new0 (DrDaemon, 1);
  GPtrArray *known;

  self->options = *options;
  self->rollers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->pair_made = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  dr_engine_config_init_defaults (&self->config);
  dr_notifier_options_init (&self->notifier_options);
  if (options->config_path)
    {
      g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);

      /* A bad value refuses the start: running on the defaults instead
       * would silently drop everything else the file says, such as an
       * excluded zone. */
      gboolean ok = dr_daemon_load_config (options->config_path, &self->config,
                                           &self->notifier_options, warnings, error);

      for (guint i = 0; i < warnings->len; i++)
        g_warning ("%s", (const char *) g_ptr_array_index (warnings, i));
      if (!ok)
        {
          dr_daemon_free (self);
          return NULL;
        }
    }

  db_path = options->db_path ? g_strdup (options->db_path) : dr_store_default_path ();
  /* A damaged database of ours is moved aside here and reported once the
   * service is up; anything else at the path is refused. */
  self->db_path = g_strdup (db_path);
  store = dr_store_open_or_replace (db_path, &self->start_moved_to, &self->start_damage, error);
  if (store == NULL)
    {
      dr_daemon_free (self);
      return NULL;
    }
  known = load_store (self, store, &local);
  if (known == NULL && dr_store_is_corrupt (store))
    {
      /* What start-up reads met a damaged page: replaced as at any time. */
      g_autoptr (GError) damage = g_steal_pointer (&local);

      g_clear_object (&self->household);
      g_clear_pointer (&self->start_moved_to, g_free);
      store = dr_store_replace_damaged (g_steal_pointer (&store), &self->start_moved_to, &local);
      if (store != NULL)
        {
          g_free (self->start_damage);
          self->start_damage = g_strdup (damage->message);
          known = load_store (self, store, &local);
        }
    }
  if (known == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      dr_daemon_free (self);
      return NULL;
    }
  self->known_rollers = known;
  g_info ("database %s: %u rollers, last session %" G_GUINT64_FORMAT, db_path, known->len,
          dr_household_get_last_session_id (self->household));
  self->store = dr_store_worker_new (g_steal_pointer (&store), NULL);
  connect_store (self);
  return self;
}

static DrRoller *
on_ensure_roller (DrService *service, const char *address, gpointer user_data)
{
  DrDaemon *self = user_data;
  return g_object_ref (ensure_roller (self, address, NULL));
}

/* The integrity check reads the whole file: it runs on the store's
 * thread, and only once the name is ours, so start-up never waits for it. */
static void
on_name_acquired (DrService *service, gpointer user_data)
{
  DrDaemon *self = user_data;

  if (self->checked)
    return;
  self->checked = TRUE;
  dr_store_worker_check (self->store);
}

static void
on_name_lost (DrService *service, gpointer user_data)
{
  DrDaemon *self = user_data;

  self->name_lost = TRUE;
  if (self->loop)
    g_main_loop_quit (self->loop);
}

gboolean
dr_daemon_start (DrDaemon *self, GMainLoop *loop, GError **error)
{
  self->loop = loop;
  /* Connecting happens once, before the main loop runs. */
  self->system_bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  if (self->system_bus == NULL)
    return FALSE;
  if (self->options.system)
    self->publish_bus = g_object_ref (self->system_bus);
  else
    {
      self->publish_bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
      if (self->publish_bus == NULL)
        return FALSE;
    }

  /* Desktop notifications belong to a person's session; a system daemon
   * has none to send them to. */
  self->notifier
      = dr_notifier_new (self->options.notify && !self->options.system ? self->publish_bus : NULL,
                         &self->notifier_options);
  self->app_cancellable = g_cancellable_new ();
  g_signal_connect (self->notifier, "session-activated", G_CALLBACK (on_session_activated), self);
  self->bluez = dr_bluez_new (self->system_bus);
  g_signal_connect (self->bluez, "roller-seen", G_CALLBACK (on_roller_seen), self);
  g_signal_connect (self->bluez, "notify::available", G_CALLBACK (on_available_changed), self);
  g_signal_connect (self->bluez, "resumed", G_CALLBACK (on_resumed), self);
  self->service = dr_service_new (self->store, self->db_path, self->bluez, &self->config,
                                  self->household, self->notifier);
  g_signal_connect (self->service, "ensure-roller", G_CALLBACK (on_ensure_roller), self);
  g_signal_connect (self->service, "name-lost", G_CALLBACK (on_name_lost), self);
  g_signal_connect (self->service, "name-acquired", G_CALLBACK (on_name_acquired), self);
  g_signal_connect (self->service, "pair-failed", G_CALLBACK (on_pair_failed), self);
  g_signal_connect (self->service, "forgotten", G_CALLBACK (on_forgotten), self);
  if (self->start_damage != NULL)
    report_damage (self, self->start_damage, self->start_moved_to);
  /* People before rollers: a roller's Person names an object that is there. */
  if (self->people)
    {
      for (guint i = 0; i < self->people->len; i++)
        {
          DrStorePerson *p = g_ptr_array_index (self->people, i);
          g_autoptr (DrPerson) person
              = dr_person_new (p->id, p->name, self->household, self->store, &self->config);
          dr_service_export_person (self->service, person);
        }
      g_clear_pointer (&self->people, g_ptr_array_unref);
    }
  if (self->known_rollers)
    {
      for (guint i = 0; i < self->known_rollers->len; i++)
        {
          KnownRoller *k = g_ptr_array_index (self->known_rollers, i);
          add_roller (self, k->address, k->name, &k->stored);
        }
      g_clear_pointer (&self->known_rollers, g_ptr_array_unref);
    }
  dr_service_start (self->service, self->publish_bus);
  return TRUE;
}

gboolean
dr_daemon_lost_name (DrDaemon *self)
{
  return self->name_lost;
}

void
dr_daemon_free (DrDaemon *self)
{
  GHashTableIter iter;
  gpointer roller;

  if (self->service)
    dr_service_stop (self->service);
  if (self->rollers)
    {
      g_hash_table_iter_init (&iter, self->rollers);
      while (g_hash_table_iter_next (&iter, NULL, &roller))
        {
          dr_roller_shutdown (roller);
          if (self->service)
            dr_service_unexport_roller (self->service, roller);
        }
    }
  /* The worker drains and commits durably before it returns. */
  if (self->store)
    dr_store_worker_close (self->store);
  g_clear_object (&self->store);
  g_clear_pointer (&self->rollers, g_hash_table_unref);
  g_clear_pointer (&self->pair_made, g_hash_table_unref);
  g_clear_object (&self->service);
  if (self->bluez != NULL)
    g_signal_handlers_disconnect_by_data (self->bluez, self);
  g_clear_object (&self->bluez);
  if (self->rest_timer != NULL)
    g_signal_handlers_disconnect_by_data (self->rest_timer, self);
  g_clear_object (&self->rest_timer);
  if (self->notifier != NULL)
    g_signal_handlers_disconnect_by_data (self->notifier, self);
  g_clear_object (&self->notifier);
  /* The replies to come find no daemon. */
  g_cancellable_cancel (self->app_cancellable);
  g_clear_object (&self->app_cancellable);
  g_clear_pointer (&self->people, g_ptr_array_unref);
  if (self->household != NULL)
    g_signal_handlers_disconnect_by_data (self->household, self);
  g_clear_object (&self->household);
  g_clear_pointer (&self->known_rollers, g_ptr_array_unref);
  g_clear_object (&self->publish_bus);
  g_clear_object (&self->system_bus);
  g_free (self->damage_message);
  g_free (self->start_moved_to);
  g_free (self->db_path);
  g_free (self->start_damage);
  g_free (self);
}
