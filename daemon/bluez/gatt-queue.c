/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gatt-queue.c: DrGattQueue, one GATT operation at a time on one roller.
 *
 * Every answer is matched to its operation by a serial: an answer that
 * arrives after its operation timed out, or after the queue was reset,
 * is dropped. Everything in flight is cancelled through one GCancellable
 * that a reset replaces. The only timers are one-shot (an operation's
 * timeout, a retry) and exist only while something is awaited.
 */
#include "gatt-queue.h"

#include "control-point.h"
#include "dr-error.h"

#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <unistd.h>

#define BLUEZ_BUS_NAME "org.bluez"
#define GATT_CHAR_IFACE "org.bluez.GattCharacteristic1"

#define GATT_RETRY_MIN_MS 50
#define GATT_RETRY_MAX_MS 1000
#define GATT_MAX_ATTEMPTS 12

struct _DrGattOp
{
  DrGattOpKind kind;
  guint serial;
  const char *uuid; /* static DR_UUID_* string */
  DrGattOpDone done;
  gpointer user_data;
  GTask *task;            /* a public call waiting for this op, or NULL */
  GSource *cancel_source; /* the task's cancellable */
  guint attempts;

  /* DR_GATT_OP_ACQUIRE_NOTIFY */
  int fd;
  guint mtu;

  /* DR_GATT_OP_CONTROL */
  guint8 request[DR_CONTROL_REQUEST_MAX_LEN];
  gsize request_len;
  guint8 opcode;
  guint timeout_ms;
  gint64 deadline_us;
  gboolean replied;   /* WriteValue answered */
  gboolean responded; /* indication seen (it may come first) */
  guint8 result;
};

struct _DrGattQueue
{
  GObject parent_instance;

  DrBluez *bluez;
  DrGattMap *map;
  char *label;
  GCancellable *cancellable;
  guint gen; /* bumped by every reset */
  gboolean running;

  GQueue ops; /* DrGattOp* */
  DrGattOp *current;
  guint serial;
  guint timeout_id;
  guint retry_id;
  gboolean kicking;
  DrGattOp *queued_ack; /* an ACK not sent yet: newer ones replace its seq */
  gboolean history_busy;
};

G_DEFINE_TYPE (DrGattQueue, dr_gatt_queue, G_TYPE_OBJECT)

static void op_start (DrGattQueue *self, DrGattOp *op);
static void op_complete (DrGattQueue *self, DrGattOp *op, GBytes *value, const GError *error);

/* ---- tasks ---------------------------------------------------------------- */

typedef struct
{
  GTask *task;
  GError *error;
} TaskReturn;

static gboolean
task_return_cb (gpointer data)
{
  TaskReturn *r = data;

  if (r->error)
    g_task_return_error (r->task, r->error);
  else
    g_task_return_boolean (r->task, TRUE);
  g_object_unref (r->task);
  g_free (r);
  return G_SOURCE_REMOVE;
}

void
dr_task_return_later (GTask *task, GError *error)
{
  TaskReturn *r = g_new0 (TaskReturn, 1);

  r->task = task;
  r->error = error;
  g_idle_add (task_return_cb, r);
  /* cppcheck-suppress memleak ; the idle source owns r: task_return_cb frees it */
}

/* ---- operations ----------------------------------------------------------- */

static DrGattOp *
op_new (DrGattOpKind kind, const char *uuid, DrGattOpDone done, gpointer user_data)
{
  DrGattOp *op = g_new0 (DrGattOp, 1);

  op->kind = kind;
  op->uuid = uuid;
  op->done = done;
  op->user_data = user_data;
  op->fd = -1;
  return op;
}

static void
op_free (DrGattOp *op)
{
  if (op->cancel_source != NULL)
    {
      g_source_destroy (op->cancel_source);
      g_clear_pointer (&op->cancel_source, g_source_unref);
    }
  g_clear_object (&op->task);
  if (op->fd >= 0)
    close (op->fd);
  g_free (op);
}

static const char *
op_describe (DrGattOp *op, char *buf, gsize size)
{
  static const char *const kinds[]
      = { "ReadValue", "StartNotify", "AcquireNotify", "WriteValue", "step" };
  if (op->kind == DR_GATT_OP_CONTROL)
    g_snprintf (buf, size, "%s", dr_control_opcode_name (op->opcode));
  else
    g_snprintf (buf, size, "%s %.8s", kinds[op->kind], op->uuid ? op->uuid : "");
  return buf;
}

const char *
dr_gatt_op_get_uuid (DrGattOp *op)
{
  return op->uuid;
}

guint8
dr_gatt_op_get_opcode (DrGattOp *op)
{
  return op->opcode;
}

int
dr_gatt_op_steal_fd (DrGattOp *op, guint *mtu)
{
  int fd = op->fd;

  op->fd = -1;
  if (mtu != NULL)
    *mtu = op->mtu;
  return fd;
}

/* ---- the queue ------------------------------------------------------------ */

void
dr_gatt_queue_set_running (DrGattQueue *self, gboolean running)
{
  self->running = running;
}

void
dr_gatt_queue_kick (DrGattQueue *self)
{
  g_autoptr (DrGattQueue) hold G_GNUC_UNUSED = g_object_ref (self);
  guint gen = self->gen;

  if (self->kicking)
    return;
  self->kicking = TRUE;
  while (gen == self->gen && self->current == NULL && !g_queue_is_empty (&self->ops)
         && self->running)
    {
      DrGattOp *op = g_queue_pop_head (&self->ops);
      if (op == self->queued_ack)
        self->queued_ack = NULL;
      op->serial = ++self->serial;
      self->current = op;
      op_start (self, op);
    }
  self->kicking = FALSE;
}

void
dr_gatt_queue_reset (DrGattQueue *self)
{
  DrGattOp *op;

  self->gen++;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->current != NULL)
    g_queue_push_head (&self->ops, g_steal_pointer (&self->current));
  while ((op = g_queue_pop_head (&self->ops)) != NULL)
    {
      if (op->task != NULL)
        dr_task_return_later (
            g_steal_pointer (&op->task),
            g_error_new (DR_ERROR, DR_ERROR_NOT_CONNECTED, "Roller %s disconnected", self->label));
      op_free (op);
    }
  self->queued_ack = NULL;
  self->history_busy = FALSE;
}

void
dr_gatt_queue_push (DrGattQueue *self, DrGattOpKind kind, const char *uuid, gboolean first,
                    DrGattOpDone done, gpointer user_data)
{
  DrGattOp *op = op_new (kind, uuid, done, user_data);

  if (first)
    g_queue_push_head (&self->ops, op);
  else
    g_queue_push_tail (&self->ops, op);
}

static DrGattOp *
control_op_new (const DrControlRequest *request, DrGattOpDone done, gpointer user_data)
{
  DrGattOp *op = op_new (DR_GATT_OP_CONTROL, DR_UUID_CONTROL_POINT, done, user_data);
  DrCodecStatus status;

  status = dr_control_request_encode (request, op->request, sizeof op->request, &op->request_len);
  g_assert (status == DR_CODEC_OK);
  op->opcode = request->opcode;
  op->timeout_ms = dr_control_timeout_ms (request->opcode);
  return op;
}

/* The caller gave up: it hears so now, not when the roller answers. The
 * task holds a reference on its source object (the link) for as long as
 * it is not returned, which would keep a dropped link alive. */
static gboolean
on_op_task_cancelled (GCancellable *cancellable, gpointer user_data)
{
  DrGattOp *op = user_data;

  g_clear_pointer (&op->cancel_source, g_source_unref);
  if (op->task != NULL)
    dr_task_return_later (g_steal_pointer (&op->task),
                          g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled"));
  return G_SOURCE_REMOVE;
}

void
dr_gatt_queue_push_control (DrGattQueue *self, const DrControlRequest *request, GTask *task,
                            DrGattOpDone done, gpointer user_data)
{
  DrGattOp *op = control_op_new (request, done, user_data);

  op->task = task;
  if (task != NULL && g_task_get_cancellable (task) != NULL)
    {
      op->cancel_source = g_cancellable_source_new (g_task_get_cancellable (task));
      g_source_set_callback (op->cancel_source, G_SOURCE_FUNC (on_op_task_cancelled), op, NULL);
      g_source_attach (op->cancel_source, NULL);
    }
  if (request->opcode == DR_OP_REQUEST_HISTORY)
    self->history_busy = TRUE;
  g_queue_push_tail (&self->ops, op);
}

void
dr_gatt_queue_ack (DrGattQueue *self, guint16 last_seq, DrGattOpDone done, gpointer user_data)
{
  DrControlRequest request = { .opcode = DR_OP_ACK, .arg.last_seq = last_seq };

  if (self->queued_ack != NULL)
    {
      /* Still waiting in the queue: send the newer seq instead. */
      dr_control_request_encode (&request, self->queued_ack->request,
                                 sizeof self->queued_ack->request, &self->queued_ack->request_len);
      return;
    }
  self->queued_ack = control_op_new (&request, done, user_data);
  g_queue_push_tail (&self->ops, self->queued_ack);
}

gboolean
dr_gatt_queue_history_busy (DrGattQueue *self)
{
  return self->history_busy;
}

void
dr_gatt_queue_progress (DrGattQueue *self)
{
  DrGattOp *op = self->current;

  if (op != NULL && op->kind == DR_GATT_OP_CONTROL && op->opcode == DR_OP_REQUEST_HISTORY)
    op->deadline_us = g_get_monotonic_time () + (gint64) op->timeout_ms * 1000;
}

/* ---- answers -------------------------------------------------------------- */

typedef struct
{
  DrGattQueue *queue; /* not a reference: only used when not cancelled */
  guint serial;
} OpCall;

static OpCall *
op_call_new (DrGattQueue *self, DrGattOp *op)
{
  OpCall *call = g_new (OpCall, 1);

  call->queue = self;
  call->serial = op->serial;
  return call;
}

/* Takes @call: the op its answer belongs to, or NULL when the answer is
 * to be dropped: cancelled (the queue may be gone: not looked at) or stale
 * (timed out and replaced). */
static DrGattOp *
op_call_take (OpCall *call, const GError *error, DrGattQueue **queue)
{
  DrGattOp *op
      = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? NULL : call->queue->current;

  *queue = call->queue;
  if (op != NULL && op->serial != call->serial)
    op = NULL;
  g_free (call);
  return op;
}

static gboolean
on_op_retry (gpointer user_data)
{
  DrGattQueue *self = user_data;

  self->retry_id = 0;
  if (self->current != NULL)
    op_start (self, self->current);
  return G_SOURCE_REMOVE;
}

/* InProgress (another GATT operation on the device, maybe by another
 * program) and Busy are not errors to surface: try again a bit later. */
static void
op_retry (DrGattQueue *self, DrGattOp *op, const char *why)
{
  guint delay;
  char desc[64];

  if (++op->attempts >= GATT_MAX_ATTEMPTS)
    {
      g_autoptr (GError) error
          = g_error_new (DR_ERROR, DR_ERROR_IN_PROGRESS, "%s still busy after %u attempts (%s)",
                         op_describe (op, desc, sizeof desc), op->attempts, why);
      op_complete (self, op, NULL, error);
      return;
    }
  delay = MIN (GATT_RETRY_MIN_MS << MIN (op->attempts, 8u), GATT_RETRY_MAX_MS);
  g_debug ("%s: %s: %s, retry in %u ms", self->label, op_describe (op, desc, sizeof desc), why,
           delay);
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  op->replied = op->responded = FALSE;
  self->retry_id = g_timeout_add (delay, on_op_retry, self);
}

/* What every GATT call does with a failed answer: InProgress is retried,
 * anything else fails the op. FALSE when there is no @error. */
static gboolean
op_call_failed (DrGattQueue *self, DrGattOp *op, const GError *error)
{
  if (dr_bluez_error_is (error, "org.bluez.Error.InProgress"))
    op_retry (self, op, "InProgress");
  else if (error != NULL)
    op_complete (self, op, NULL, error);
  else
    return FALSE;
  return TRUE;
}

static void
on_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GBytes) bytes = NULL;
  DrGattQueue *self;
  DrGattOp *op;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if ((op = op_call_take (user_data, error, &self)) == NULL || op_call_failed (self, op, error))
    return;
  value = g_variant_get_child_value (reply, 0);
  bytes = g_variant_get_data_as_bytes (value);
  op_complete (self, op, bytes, NULL);
}

static void
on_start_notify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  DrGattQueue *self;
  DrGattOp *op;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if ((op = op_call_take (user_data, error, &self)) == NULL)
    return;
  if (dr_bluez_error_is (error, "org.bluez.Error.InProgress"))
    {
      /* BlueZ also answers InProgress when this client already has a
       * notify session there: one that outlived a teardown of ours while
       * the device stayed connected. Notifications are shared between
       * sessions, so that one serves. */
      const char *path = dr_gatt_map_lookup (self->map, op->uuid);
      g_autoptr (GDBusProxy) chr = dr_bluez_get_proxy (self->bluez, path, GATT_CHAR_IFACE);
      g_autoptr (GVariant) notifying
          = chr ? g_dbus_proxy_get_cached_property (chr, "Notifying") : NULL;

      if (notifying != NULL && g_variant_is_of_type (notifying, G_VARIANT_TYPE_BOOLEAN)
          && g_variant_get_boolean (notifying))
        {
          g_debug ("%s: already notifying on %s", self->label, path);
          op_complete (self, op, NULL, NULL);
        }
      else
        op_retry (self, op, "InProgress");
    }
  else
    op_complete (self, op, NULL, error);
}

static void
on_acquire_notify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  DrGattQueue *self;
  DrGattOp *op;
  gint32 handle;
  guint16 mtu;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source), &fds, result,
                                                           &error);
  if ((op = op_call_take (user_data, error, &self)) == NULL || op_call_failed (self, op, error))
    return;
  g_variant_get (reply, "(hq)", &handle, &mtu);
  fd = fds ? g_unix_fd_list_get (fds, handle, &error) : -1;
  if (fd < 0)
    {
      /* A broken answer, not a refusal: FAILED, and StartNotify next. */
      if (error == NULL)
        error
            = g_error_new (DR_ERROR, DR_ERROR_FAILED, "AcquireNotify returned no file descriptor");
      op_complete (self, op, NULL, error);
      return;
    }
  if (!g_unix_set_fd_nonblocking (fd, TRUE, &error))
    {
      close (fd);
      op_complete (self, op, NULL, error);
      return;
    }
  op->fd = fd;
  op->mtu = mtu;
  g_debug ("%s: Roll Measurement acquired: fd %d, MTU %u", self->label, fd, mtu);
  op_complete (self, op, NULL, NULL);
}

static void
finish_control (DrGattQueue *self, DrGattOp *op)
{
  g_autoptr (GError) error = NULL;

  switch (dr_control_check_result (op->opcode, op->result, self->label, &error))
    {
      case DR_CONTROL_DONE:
        op_complete (self, op, NULL, NULL);
        break;
      case DR_CONTROL_RETRY:
        op_retry (self, op, "roller busy");
        break;
      case DR_CONTROL_FAILED:
      default:
        op_complete (self, op, NULL, error);
        break;
    }
}

static void
on_write_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  DrGattQueue *self;
  DrGattOp *op;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if ((op = op_call_take (user_data, error, &self)) == NULL || op_call_failed (self, op, error))
    return;
  op->replied = TRUE;
  /* The indication may have overtaken the method return. */
  if (op->responded)
    finish_control (self, op);
}

gboolean
dr_gatt_queue_control_answer (DrGattQueue *self, guint8 opcode, guint8 result)
{
  DrGattOp *op = self->current;

  if (op == NULL || op->kind != DR_GATT_OP_CONTROL || op->opcode != opcode)
    return FALSE;
  g_debug ("%s: %s answered %u", self->label, dr_control_opcode_name (op->opcode), result);
  op->responded = TRUE;
  op->result = result;
  if (op->replied)
    finish_control (self, op);
  return TRUE;
}

static gboolean
on_op_timeout (gpointer user_data)
{
  DrGattQueue *self = user_data;
  DrGattOp *op = self->current;
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GError) error = NULL;
  char desc[64];

  self->timeout_id = 0;
  if (op == NULL)
    return G_SOURCE_REMOVE;
  /* History frames count as progress (dr_gatt_queue_progress moves the
   * deadline): re-arm for what is left rather than touching a timer per
   * frame. */
  if (now < op->deadline_us)
    {
      self->timeout_id
          = g_timeout_add ((guint) ((op->deadline_us - now + 999) / 1000), on_op_timeout, self);
      return G_SOURCE_REMOVE;
    }
  error = g_error_new (DR_ERROR, DR_ERROR_TIMED_OUT, "Roller %s did not answer %s within %u s",
                       self->label, op_describe (op, desc, sizeof desc), op->timeout_ms / 1000);
  op_complete (self, op, NULL, error);
  return G_SOURCE_REMOVE;
}

static void
op_start (DrGattQueue *self, DrGattOp *op)
{
  GDBusConnection *connection = dr_bluez_get_connection (self->bluez);
  const char *path = NULL;
  char desc[64];

  if (op->kind == DR_GATT_OP_STEP)
    {
      op_complete (self, op, NULL, NULL);
      return;
    }
  path = dr_gatt_map_lookup (self->map, op->uuid);
  if (path == NULL)
    {
      g_autoptr (GError) error
          = g_error_new (DR_ERROR, DR_ERROR_NOT_FOUND, "Roller %s has no characteristic %s",
                         self->label, op->uuid);
      op_complete (self, op, NULL, error);
      return;
    }
  g_debug ("%s: %s", self->label, op_describe (op, desc, sizeof desc));

  switch (op->kind)
    {
      case DR_GATT_OP_READ:
        g_dbus_connection_call (connection, BLUEZ_BUS_NAME, path, GATT_CHAR_IFACE, "ReadValue",
                                g_variant_new_parsed ("(@a{sv} {},)"), G_VARIANT_TYPE ("(ay)"),
                                G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable,
                                on_read_done, op_call_new (self, op));
        break;
      case DR_GATT_OP_START_NOTIFY:
        g_dbus_connection_call (connection, BLUEZ_BUS_NAME, path, GATT_CHAR_IFACE, "StartNotify",
                                NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable,
                                on_start_notify_done, op_call_new (self, op));
        break;
      case DR_GATT_OP_ACQUIRE_NOTIFY:
        g_dbus_connection_call_with_unix_fd_list (
            connection, BLUEZ_BUS_NAME, path, GATT_CHAR_IFACE, "AcquireNotify",
            g_variant_new_parsed ("(@a{sv} {},)"), G_VARIANT_TYPE ("(hq)"),
            G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, self->cancellable, on_acquire_notify_done,
            op_call_new (self, op));
        break;
      case DR_GATT_OP_CONTROL:
        {
          GVariantBuilder options;

          g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&options, "{sv}", "type", g_variant_new_string ("request"));
          op->replied = op->responded = FALSE;
          op->deadline_us = g_get_monotonic_time () + (gint64) op->timeout_ms * 1000;
          g_clear_handle_id (&self->timeout_id, g_source_remove);
          self->timeout_id = g_timeout_add (op->timeout_ms, on_op_timeout, self);
          g_dbus_connection_call (
              connection, BLUEZ_BUS_NAME, path, GATT_CHAR_IFACE, "WriteValue",
              g_variant_new (
                  "(@aya{sv})",
                  g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, op->request, op->request_len, 1),
                  &options),
              NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable, on_write_done,
              op_call_new (self, op));
          break;
        }
      case DR_GATT_OP_STEP:
      default:
        g_assert_not_reached ();
    }
}

static void
op_complete (DrGattQueue *self, DrGattOp *op, GBytes *value, const GError *error)
{
  /* op->done may reset us, or drop the owner's (and so the last) reference. */
  g_autoptr (DrGattQueue) hold G_GNUC_UNUSED = g_object_ref (self);
  guint gen = self->gen;
  char desc[64];

  g_assert (self->current == op);
  self->current = NULL;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (op->kind == DR_GATT_OP_CONTROL && op->opcode == DR_OP_REQUEST_HISTORY)
    self->history_busy = FALSE;
  if (error != NULL)
    g_debug ("%s: %s failed: %s", self->label, op_describe (op, desc, sizeof desc), error->message);

  if (op->task != NULL)
    dr_task_return_later (g_steal_pointer (&op->task), error ? g_error_copy (error) : NULL);
  if (op->done != NULL)
    op->done (op->user_data, op, value, error);
  op_free (op);

  if (gen == self->gen)
    dr_gatt_queue_kick (self);
}

/* ---- GObject -------------------------------------------------------------- */

static void
dr_gatt_queue_dispose (GObject *object)
{
  DrGattQueue *self = DR_GATT_QUEUE (object);

  if (self->cancellable != NULL)
    dr_gatt_queue_reset (self);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->bluez);
  G_OBJECT_CLASS (dr_gatt_queue_parent_class)->dispose (object);
}

static void
dr_gatt_queue_finalize (GObject *object)
{
  g_free (DR_GATT_QUEUE (object)->label);
  G_OBJECT_CLASS (dr_gatt_queue_parent_class)->finalize (object);
}

static void
dr_gatt_queue_init (DrGattQueue *self)
{
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->ops);
}

static void
dr_gatt_queue_class_init (DrGattQueueClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = dr_gatt_queue_dispose;
  object_class->finalize = dr_gatt_queue_finalize;
}

DrGattQueue *
dr_gatt_queue_new (DrBluez *bluez, DrGattMap *map, const char *label)
{
  DrGattQueue *self;

  g_return_val_if_fail (DR_IS_BLUEZ (bluez), NULL);
  g_return_val_if_fail (map != NULL, NULL);

  self = g_object_new (DR_TYPE_GATT_QUEUE, NULL);
  self->bluez = g_object_ref (bluez);
  self->map = map;
  self->label = g_strdup (label);
  return self;
}
