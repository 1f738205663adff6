/* service.h: org.dermaroll on the bus: the name, the object manager at
 * /org/dermaroll and the Manager1 methods. Roller1 objects are exported by
 * their DrRoller into the object manager this creates. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DrDaemon DrDaemon;
typedef struct _DrService DrService;

DrService *dr_service_new (DrDaemon *daemon);
GDBusObjectManagerServer *dr_service_get_object_manager (DrService *service);
/* Exports everything on @connection and claims org.dermaroll; @lost is
 * called if the name is lost or cannot be had. */
void dr_service_start (DrService *service, GDBusConnection *connection, GCallback lost, gpointer user_data);
void dr_service_set_discovering (DrService *service, gboolean discovering);
/* "" when the store is healthy. */
void dr_service_set_store_error (DrService *service, const char *message);
void dr_service_free (DrService *service);

G_END_DECLS
