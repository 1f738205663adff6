/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* notify-socket.h: the socket AcquireNotify hands out, read on the main
 * loop.
 *
 * Each datagram is one notification of Roll Measurement. The socket owns
 * its fd from dr_notify_socket_new() to dr_notify_socket_close() (or its
 * last unref) and reports with signals:
 *
 * frame (pointer data, uint len): one notification, exactly as received;
 *   @data is borrowed for the emission. A handler may close the socket.
 * hangup (): the socket was closed by the other end or broke, after
 *   every frame still in it was emitted.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define DR_TYPE_NOTIFY_SOCKET (dr_notify_socket_get_type ())
G_DECLARE_FINAL_TYPE (DrNotifySocket, dr_notify_socket, DR, NOTIFY_SOCKET, GObject)

/* Takes @fd (non-blocking); @mtu sizes the receive slots; @label names it
 * in the log (the roller's address). */
DrNotifySocket *dr_notify_socket_new (int fd, guint mtu, const char *label);

/* Emits every frame already in the socket, now: they come before an
 * answer or a loss that is about to be acted on. FALSE if the socket was
 * closed meanwhile (by a frame handler). */
gboolean dr_notify_socket_drain (DrNotifySocket *socket);

/* While paused the socket is not read (nor its hangup seen): what the
 * other end sends waits in the socket, and once the socket is full, in
 * the roller. dr_notify_socket_drain () reads all the same. */
void dr_notify_socket_set_paused (DrNotifySocket *socket, gboolean paused);

/* Stops reading and closes the fd; no signal after this. */
void dr_notify_socket_close (DrNotifySocket *socket);

G_END_DECLS
