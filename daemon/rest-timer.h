/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rest-timer.h: DrRestTimer, which tells when a zone that was resting may
 * be treated again.
 *
 * It is given the treatments of each skin (a person id keys them; today
 * the daemon has one skin, person 0), asks rest-status when each zone is
 * free, and keeps ONE timer armed to the earliest of those times over
 * every skin: nothing is armed while no zone is waiting, so nothing wakes.
 * Due times are on the wall clock (treatments are stored that way); the
 * timer itself runs on the monotonic clock, which stands still in a
 * suspend, so whoever hears of a resume (or of the wall clock being set)
 * calls dr_rest_timer_rearm ().
 */
#pragma once

#include <glib-object.h>

#include "engine-config.h"
#include "engine.h"

G_BEGIN_DECLS

#define DR_TYPE_REST_TIMER (dr_rest_timer_get_type ())
G_DECLARE_FINAL_TYPE (DrRestTimer, dr_rest_timer, DR, REST_TIMER, GObject)

/* The wall clock in ms since the Unix epoch. */
typedef gint64 (*DrRestTimerClock) (gpointer user_data);

/* Signal zone-ready (guint person_id, int zone): @zone of @person_id was
 * waiting and its rest is over; once per zone and rest, never for a zone
 * excluded in @config at that time.
 * @config: the rules (property "config"); the caller keeps it alive. */
DrRestTimer *dr_rest_timer_new (const DrEngineConfig *config);

/* For tests: a wall clock other than g_get_real_time (); NULL restores it.
 * Takes effect at the next computation (call dr_rest_timer_rearm). */
void dr_rest_timer_set_clock (DrRestTimer *timer, DrRestTimerClock clock, gpointer user_data);

/* Every treatment of @person_id's skin (copied: only when each zone is
 * free is kept), replacing what was given before. Zones whose rest ended
 * by now are reported first; a zone that is waiting no more because its
 * treatments are gone is not "ready". */
void dr_rest_timer_set_treatments (DrRestTimer *timer, guint person_id,
                                   const DrTreatment *treatments, gsize n_treatments);

/* @person_id is gone: nothing of theirs is reported any more. */
void dr_rest_timer_remove_person (DrRestTimer *timer, guint person_id);

/* Reads the wall clock again: zones due by now are reported, and the timer
 * is armed again to the time left until the next. */
void dr_rest_timer_rearm (DrRestTimer *timer);

/* The wall-clock time (ms) the timer is armed for, 0 when nothing is armed. */
gint64 dr_rest_timer_get_armed_ms (DrRestTimer *timer);

G_END_DECLS
