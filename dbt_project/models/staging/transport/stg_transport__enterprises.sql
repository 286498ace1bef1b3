-- The transport operators in the shape every sector gives dim_enterprises (macros/registers).
{{ operator_register(
    'stg_transport__operators',
    'transport_statistics_api',
    'transport',
    'Agency of Transport and Communications'
) }}
