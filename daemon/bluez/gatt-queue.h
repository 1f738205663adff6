/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gatt-queue.h: the GATT operations on one roller, one at a time.
 *
 * BlueZ answers a second concurrent GATT operation on the same device
 * with org.bluez.Error.InProgress, so every ReadValue, StartNotify,
 * AcquireNotify and Control Point write goes through this queue; an
 * InProgress (or a BUSY answer of the roller) is retried after a short
 * backoff. A Control Point write holds the queue until its indication
 * (dr_gatt_queue_control_answer) arrives. Setup steps without GATT run in
 * queue order too.
 *
 * Each operation's DrGattOpDone is called when it completes, never when
 * the queue is reset: dr_gatt_queue_reset() drops every operation of a
 * connection that is over (public calls waiting on one get NotConnected).
 */
#pragma once

#include <gio/gio.h>

#include "bluez.h"
#include "gatt-map.h"
#include "roller-protocol.h"

G_BEGIN_DECLS

typedef enum
{
  DR_GATT_OP_READ,
  DR_GATT_OP_START_NOTIFY,
  DR_GATT_OP_ACQUIRE_NOTIFY,
  DR_GATT_OP_CONTROL, /* WriteValue on the Control Point, then its 0x80 indication */
  DR_GATT_OP_STEP,    /* no GATT: a step that must run in queue order */
} DrGattOpKind;

typedef struct _DrGattOp DrGattOp;

/* @value: what ReadValue read. The callback may reset the queue or drop
 * its owner's last reference. */
typedef void (*DrGattOpDone) (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error);

#define DR_TYPE_GATT_QUEUE (dr_gatt_queue_get_type ())
G_DECLARE_FINAL_TYPE (DrGattQueue, dr_gatt_queue, DR, GATT_QUEUE, GObject)

/* @map: the characteristics operations are addressed to by UUID; borrowed,
 * it must outlive the queue. @label names the roller in the log. */
DrGattQueue *dr_gatt_queue_new (DrBluez *bluez, DrGattMap *map, const char *label);

/* Operations start only while running (set up or streaming). */
void dr_gatt_queue_set_running (DrGattQueue *queue, gboolean running);
/* Drops every operation and cancels what is in flight. */
void dr_gatt_queue_reset (DrGattQueue *queue);
/* Starts the next operation(s) if idle and running. */
void dr_gatt_queue_kick (DrGattQueue *queue);

/* Appends (or, with @first, prepends) an operation on @uuid. */
void dr_gatt_queue_push (DrGattQueue *queue, DrGattOpKind kind, const char *uuid, gboolean first,
                         DrGattOpDone done, gpointer user_data);
/* Appends a Control Point request; @task (taken, may be NULL) completes
 * with the operation. */
void dr_gatt_queue_push_control (DrGattQueue *queue, const DrControlRequest *request, GTask *task,
                                 DrGattOpDone done, gpointer user_data);
/* ACK @last_seq: replaces the seq of an ACK still waiting in the queue
 * rather than queueing a second one. */
void dr_gatt_queue_ack (DrGattQueue *queue, guint16 last_seq, DrGattOpDone done,
                        gpointer user_data);

/* An indication answered @opcode with @result. FALSE when no operation
 * waits for it (unsolicited). */
gboolean dr_gatt_queue_control_answer (DrGattQueue *queue, guint8 opcode, guint8 result);
/* A history frame arrived: REQUEST_HISTORY is making progress. */
void dr_gatt_queue_progress (DrGattQueue *queue);
/* A REQUEST_HISTORY is queued or running. */
gboolean dr_gatt_queue_history_busy (DrGattQueue *queue);

const char *dr_gatt_op_get_uuid (DrGattOp *op);
guint8 dr_gatt_op_get_opcode (DrGattOp *op);
/* AcquireNotify: the fd (non-blocking, now the caller's) and the MTU. */
int dr_gatt_op_steal_fd (DrGattOp *op, guint *mtu);

/* Completes @task from an idle: a caller's callback never runs inside
 * ours. Takes @task and @error (NULL: success). */
void dr_task_return_later (GTask *task, GError *error);

G_END_DECLS
