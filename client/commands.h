/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* commands.h: dermarollctl's commands; the table that names them and
 * their help is in dermarollctl.c. Each returns the exit status. */
#pragma once

#include "ctl.h"

G_BEGIN_DECLS

/* cmd-rollers.c */
int dr_cmd_pair (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_forget (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_list (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_status (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_zone (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_start (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_stop (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_sync (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);

/* cmd-live.c */
int dr_cmd_scan (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_watch (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);

/* cmd-history.c */
int dr_cmd_sessions (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_coverage (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_events (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_export (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);

/* cmd-zones.c */
int dr_cmd_zones (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_exclude (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_include (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);

/* cmd-notifications.c */
int dr_cmd_notifications (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);

/* cmd-people.c */
int dr_cmd_people (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);
int dr_cmd_person (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv);

G_END_DECLS
