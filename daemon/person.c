/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* person.c: the Person1 object of one person.
 *
 * Every change is written through the store worker and answered once the
 * commit that holds it is durable: a caller told "done" finds it after a
 * power cut. Until then nothing of it is applied, so a write that fails
 * (Error.Store) leaves the person as they were. A refusal the store finds
 * (the name taken meanwhile by a call before this one) is no failed write:
 * the job writes nothing and hands the refusal back.
 */
#include "person.h"

#include "dr-error.h"
#include "dr-quote.h"
#include "rest-status.h"
#include "store.h"

struct _DrPerson
{
  DrDBusPerson1Skeleton parent_instance;

  /* Collaborators, from construct properties. */
  DrHousehold *household;
  DrStoreWorker *store;
  const DrEngineConfig *config;
  gint64 id;
  char *initial_name; /* until constructed () publishes it as Name */

  char *object_path;
};

enum
{
  PROP_0,
  PROP_PERSON_ID,
  PROP_PERSON_NAME,
  PROP_HOUSEHOLD,
  PROP_STORE,
  PROP_CONFIG,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_ZONE_EXCLUDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void dr_person_person1_iface_init (DrDBusPerson1Iface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DrPerson, dr_person, DR_DBUS_TYPE_PERSON1_SKELETON,
                               G_IMPLEMENT_INTERFACE (DR_DBUS_TYPE_PERSON1,
                                                      dr_person_person1_iface_init))

#define PERSON1(self) DR_DBUS_PERSON1 (self)

/* A write of the person's, and what the store said of it. */
typedef struct
{
  gint64 person_id;
  char *name;
  char *zone;
  gboolean excluded;
  int zone_id;
  GError *refusal; /* the store refused: nothing was written */
} PersonJob;

static void
person_job_free (PersonJob *job)
{
  g_free (job->name);
  g_free (job->zone);
  g_clear_error (&job->refusal);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PersonJob, person_job_free)

/* ---- published state --------------------------------------------------- */

static void
publish_excluded_zones (DrPerson *self)
{
  g_autoptr (GPtrArray) zones = g_ptr_array_new ();

  /* In zone order, as Person1 documents. */
  for (unsigned z = 0; z < self->config->n_zones; z++)
    if (self->config->zones[z].name[0] != '\0'
        && dr_household_is_zone_excluded (self->household, self->id, (int) z))
      g_ptr_array_add (zones, (gpointer) self->config->zones[z].name);
  g_ptr_array_add (zones, NULL);
  dr_dbus_person1_set_excluded_zones (PERSON1 (self), (const char *const *) zones->pdata);
}

/* ---- excluded zones ---------------------------------------------------- */

static gboolean
job_set_excluded (DrStore *store, gpointer data, GError **error)
{
  PersonJob *job = data;
  GError *local = NULL;

  if (dr_store_set_person_zone_excluded (store, job->person_id, job->zone, job->excluded, &local))
    return TRUE;
  return dr_store_split_refusal (local, &job->refusal, error);
}

static void
set_excluded_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  DrPerson *self = g_task_get_source_object (task);
  PersonJob *job = g_task_get_task_data (task);
  GError *error = NULL;

  if (!dr_store_worker_write_finish (DR_STORE_WORKER (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (job->refusal != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&job->refusal));
      return;
    }
  dr_household_set_zone_excluded (self->household, self->id, job->zone_id, job->excluded);
  publish_excluded_zones (self);
  g_signal_emit (self, signals[SIGNAL_ZONE_EXCLUDED], 0, job->zone_id, job->excluded);
  g_task_return_boolean (task, TRUE);
}

void
dr_person_set_zone_excluded_async (DrPerson *self, int zone, gboolean excluded,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  PersonJob *job;

  g_return_if_fail (DR_IS_PERSON (self));
  g_return_if_fail (zone >= 0 && zone < (int) self->config->n_zones);

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, dr_person_set_zone_excluded_async);
  job = g_new0 (PersonJob, 1);
  job->person_id = self->id;
  job->zone = g_strdup (self->config->zones[zone].name);
  job->zone_id = zone;
  job->excluded = excluded;
  /* The task owns the job: the worker only borrows it (destroy NULL). */
  g_task_set_task_data (task, job, (GDestroyNotify) person_job_free);
  dr_store_worker_write_async (self->store, job_set_excluded, job, NULL, set_excluded_written,
                               task);
}

gboolean
dr_person_set_zone_excluded_finish (DrPerson *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
set_zone_excluded_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_person_set_zone_excluded_finish (DR_PERSON (source), result, &error))
    {
      dr_error_return_gerror (invocation, error);
      return;
    }
  dr_dbus_person1_complete_set_zone_excluded (PERSON1 (source), invocation);
}

static gboolean
handle_set_zone_excluded (DrDBusPerson1 *iface, GDBusMethodInvocation *invocation, const char *zone,
                          gboolean excluded)
{
  DrPerson *self = DR_PERSON (iface);
  int id = dr_engine_config_zone_by_name (self->config, zone);

  if (id < 0)
    {
      g_autofree char *valid = dr_engine_config_list_zone_names (self->config);
      g_autofree char *quoted = dr_quote (zone);
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "unknown zone %s; valid zones: %s", quoted, valid);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  dr_person_set_zone_excluded_async (self, id, excluded, set_zone_excluded_done,
                                     g_object_ref (invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- rename ------------------------------------------------------------ */

typedef struct
{
  DrPerson *person;
  GDBusMethodInvocation *invocation;
  PersonJob *job;
} RenameCall;

static void
rename_call_free (RenameCall *call)
{
  g_object_unref (call->person);
  g_object_unref (call->invocation);
  person_job_free (call->job);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RenameCall, rename_call_free)

static gboolean
job_rename (DrStore *store, gpointer data, GError **error)
{
  PersonJob *job = data;
  GError *local = NULL;

  if (dr_store_rename_person (store, job->person_id, job->name, &local))
    return TRUE;
  return dr_store_split_refusal (local, &job->refusal, error);
}

static void
rename_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (RenameCall) call = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_store_worker_write_finish (DR_STORE_WORKER (source), result, &error))
    {
      dr_error_return_gerror (call->invocation, error);
      return;
    }
  if (call->job->refusal != NULL)
    {
      dr_error_return_gerror (call->invocation, call->job->refusal);
      return;
    }
  g_info ("person %" G_GINT64_FORMAT " renamed", call->person->id);
  dr_dbus_person1_set_name (PERSON1 (call->person), call->job->name);
  dr_household_set_person_name (call->person->household, call->person->id, call->job->name);
  dr_dbus_person1_complete_rename (PERSON1 (call->person), call->invocation);
}

static gboolean
handle_rename (DrDBusPerson1 *iface, GDBusMethodInvocation *invocation, const char *name)
{
  DrPerson *self = DR_PERSON (iface);
  g_autoptr (GError) error = NULL;
  RenameCall *call;

  if (!dr_store_check_person_name (name, &error))
    {
      dr_error_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (g_str_equal (name, dr_dbus_person1_get_name (iface)))
    {
      dr_dbus_person1_complete_rename (iface, invocation);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  call = g_new0 (RenameCall, 1);
  call->person = g_object_ref (self);
  call->invocation = g_object_ref (invocation);
  call->job = g_new0 (PersonJob, 1);
  call->job->person_id = self->id;
  call->job->name = g_strdup (name);
  dr_store_worker_write_async (self->store, job_rename, call->job, NULL, rename_written, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- rest status ------------------------------------------------------- */

static gboolean
handle_get_rest_status (DrDBusPerson1 *iface, GDBusMethodInvocation *invocation)
{
  DrPerson *self = DR_PERSON (iface);
  DrRestStatus status[DR_MAX_ZONES];
  const DrTreatment *treatments;
  gsize n;
  GVariantBuilder builder;

  /* The wall clock: the answer is dates for a person, not the roller's
   * clock (the treatments were stored on rollers' clocks SET_TIME keeps to
   * this one). */
  treatments = dr_household_get_treatments (self->household, self->id, &n);
  dr_rest_status_compute (self->config, treatments, n, g_get_real_time () / 1000, status);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{s(xx)}"));
  for (unsigned z = 0; z < self->config->n_zones; z++)
    {
      if (self->config->zones[z].name[0] == '\0')
        continue;
      g_variant_builder_add (&builder, "{s(xx)}", self->config->zones[z].name,
                             (gint64) status[z].last_treated_ms, (gint64) status[z].free_from_ms);
    }
  dr_dbus_person1_complete_get_rest_status (iface, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
dr_person_person1_iface_init (DrDBusPerson1Iface *iface)
{
  iface->handle_set_zone_excluded = handle_set_zone_excluded;
  iface->handle_rename = handle_rename;
  iface->handle_get_rest_status = handle_get_rest_status;
}

/* ---- life cycle -------------------------------------------------------- */

static void
dr_person_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  DrPerson *self = DR_PERSON (object);

  switch (prop_id)
    {
      case PROP_PERSON_ID:
        self->id = g_value_get_int64 (value);
        break;
      case PROP_PERSON_NAME:
        self->initial_name = g_value_dup_string (value);
        break;
      case PROP_HOUSEHOLD:
        self->household = g_value_dup_object (value);
        break;
      case PROP_STORE:
        self->store = g_value_dup_object (value);
        break;
      case PROP_CONFIG:
        self->config = g_value_get_pointer (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_person_constructed (GObject *object)
{
  DrPerson *self = DR_PERSON (object);
  g_autofree char *name = g_steal_pointer (&self->initial_name);

  G_OBJECT_CLASS (dr_person_parent_class)->constructed (object);

  g_return_if_fail (self->id > 0 && name != NULL && self->household != NULL && self->store != NULL
                    && self->config != NULL);

  self->object_path = dr_person_object_path (self->id);
  dr_dbus_person1_set_name (PERSON1 (self), name);
  dr_household_set_person_name (self->household, self->id, name);
  publish_excluded_zones (self);
}

static void
dr_person_dispose (GObject *object)
{
  DrPerson *self = DR_PERSON (object);

  g_clear_object (&self->household);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (dr_person_parent_class)->dispose (object);
}

static void
dr_person_finalize (GObject *object)
{
  DrPerson *self = DR_PERSON (object);

  g_free (self->object_path);
  g_free (self->initial_name);
  G_OBJECT_CLASS (dr_person_parent_class)->finalize (object);
}

static void
dr_person_class_init (DrPersonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->set_property = dr_person_set_property;
  object_class->constructed = dr_person_constructed;
  object_class->dispose = dr_person_dispose;
  object_class->finalize = dr_person_finalize;

  /* The skeleton's "name" is Person1's Name: "person-name" sets it. */
  props[PROP_PERSON_ID] = g_param_spec_int64 ("person-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  props[PROP_PERSON_NAME] = g_param_spec_string ("person-name", NULL, NULL, NULL, flags);
  props[PROP_HOUSEHOLD] = g_param_spec_object ("household", NULL, NULL, DR_TYPE_HOUSEHOLD, flags);
  props[PROP_STORE] = g_param_spec_object ("store", NULL, NULL, DR_TYPE_STORE_WORKER, flags);
  props[PROP_CONFIG] = g_param_spec_pointer ("config", NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_ZONE_EXCLUDED]
      = g_signal_new ("zone-excluded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_BOOLEAN);
}

static void
dr_person_init (DrPerson *self)
{
}

DrPerson *
dr_person_new (gint64 person_id, const char *name, DrHousehold *household, DrStoreWorker *store,
               const DrEngineConfig *config)
{
  return g_object_new (DR_TYPE_PERSON, "person-id", person_id, "person-name", name, "household",
                       household, "store", store, "config", config, NULL);
}

gint64
dr_person_get_id (DrPerson *self)
{
  g_return_val_if_fail (DR_IS_PERSON (self), 0);
  return self->id;
}

const char *
dr_person_get_object_path (DrPerson *self)
{
  g_return_val_if_fail (DR_IS_PERSON (self), NULL);
  return self->object_path;
}
