/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sample-export.h: a session's samples streamed to a client's file
 * descriptor (Manager1.ExportSamples).
 *
 * A year of samples is hundreds of millions of rows: no reply could hold
 * them, and the client should not have to either. The export runs on a
 * thread of its own with its own read-only connection to the store, so
 * that a client that reads slowly never holds up the main loop or the
 * store worker (commits, and with them ACKs, go on), and it holds one
 * buffer of records at a time whatever the session's length.
 *
 * The stream is what protocol/org.dermaroll.Manager1.xml documents: one
 * 16-byte little-endian record per sample, nothing before or after it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One record: int64 time_ms, uint32 ticks, uint16 force_mn, uint8 zone,
 * uint8 0 (reserved). */
#define DR_SAMPLE_RECORD_SIZE 16

/* Writes every sample of @session_id, as GetSessionSamples has them, to
 * @fd (taken: closed before the callback runs) from a thread; reads the
 * store at @db_path read-only. Errors: NotFound (no such session), Store,
 * Closed (the reader closed its end; no SIGPIPE: the daemon ignores it),
 * TimedOut (the reader took nothing for DR_SAMPLE_EXPORT_STALL_S seconds:
 * its read snapshot would keep the write-ahead log from being cut back),
 * Failed (another write error), Cancelled. */
#define DR_SAMPLE_EXPORT_STALL_S 60
void dr_sample_export_async (const char *db_path, guint64 session_id, int fd,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data);
/* *@n_samples: how many records were written (also on error). */
gboolean dr_sample_export_finish (GAsyncResult *result, guint64 *n_samples, GError **error);

G_END_DECLS
