/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sample-stream.h: a session's samples from Manager1.ExportSamples, one
 * at a time, as they arrive on a pipe.
 *
 * GetSessionSamples answers with every sample in one reply: a year of
 * them would be gigabytes in the client. ExportSamples writes them to a
 * pipe whose write end goes with the call, and this reads them with one
 * buffer, handing each to a callback as soon as it is in.
 */
#pragma once

#include "dr-dbus.h"

G_BEGIN_DECLS

/* Returns FALSE to stop the export (with @error set by the callback). */
typedef gboolean (*DrSampleStreamFunc) (gint64 time_ms, guint32 ticks, guint16 force_mn,
                                        guchar zone, gpointer user_data, GError **error);

/* Every sample of session @id, in GetSessionSamples' order, through @func;
 * *@count is how many. Waits for the daemon's reply after the stream's end
 * (iterating the thread-default main context): a stream that stopped
 * short, or a count that is not what came, is an error. */
gboolean dr_sample_stream_read (DrDBusManager1 *manager, guint64 id, DrSampleStreamFunc func,
                                gpointer user_data, guint64 *count, GError **error);

G_END_DECLS
