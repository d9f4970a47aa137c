/*
 * Vulkan instance and device: the loader through volk, one process-wide instance
 * shared by every vulkan backend (refcounted), validation layers on request, the
 * physical device choice, one compute queue, and the features/limits the kernels
 * depend on. Missing loader, driver or device gives PF_ERR_UNSUPPORTED with the
 * reason, never a crash.
 */
#include "vk_internal.h"

#include <pthread.h>
#include <stdatomic.h>

#ifndef PF_VK_VALIDATE_DEFAULT
#define PF_VK_VALIDATE_DEFAULT 0
#endif

static pthread_mutex_t pf_vk_instance_lock = PTHREAD_MUTEX_INITIALIZER;
static VkInstance pf_vk_instance;
static int pf_vk_instance_refs;
static bool pf_vk_instance_validates;
static VkDebugUtilsMessengerEXT pf_vk_messenger;
static atomic_int pf_vk_validation_errors;

int pf_vk_validation_error_count(void) { return atomic_load(&pf_vk_validation_errors); }

const char *pf_vk_result_str(VkResult r) {
    switch (r) {
#define PF_VK_R(x) \
    case x: return #x;
        PF_VK_R(VK_SUCCESS)
        PF_VK_R(VK_NOT_READY)
        PF_VK_R(VK_TIMEOUT)
        PF_VK_R(VK_INCOMPLETE)
        PF_VK_R(VK_ERROR_OUT_OF_HOST_MEMORY)
        PF_VK_R(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        PF_VK_R(VK_ERROR_INITIALIZATION_FAILED)
        PF_VK_R(VK_ERROR_DEVICE_LOST)
        PF_VK_R(VK_ERROR_MEMORY_MAP_FAILED)
        PF_VK_R(VK_ERROR_LAYER_NOT_PRESENT)
        PF_VK_R(VK_ERROR_EXTENSION_NOT_PRESENT)
        PF_VK_R(VK_ERROR_FEATURE_NOT_PRESENT)
        PF_VK_R(VK_ERROR_INCOMPATIBLE_DRIVER)
        PF_VK_R(VK_ERROR_TOO_MANY_OBJECTS)
        PF_VK_R(VK_ERROR_FORMAT_NOT_SUPPORTED)
        PF_VK_R(VK_ERROR_FRAGMENTED_POOL)
        PF_VK_R(VK_ERROR_UNKNOWN)
        PF_VK_R(VK_ERROR_OUT_OF_POOL_MEMORY)
        PF_VK_R(VK_ERROR_INVALID_EXTERNAL_HANDLE)
        PF_VK_R(VK_ERROR_FRAGMENTATION)
        PF_VK_R(VK_ERROR_INVALID_SHADER_NV)
#undef PF_VK_R
    default: return "VkResult(?)";
    }
}

pf_status pf_vk_fail(VkResult r, const char *call, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* "c->vk.vkFoo(args...)" -> "vkFoo" */
    char fn[64];
    const char *p = strstr(call, "vk");
    while (p && p[2] && !(p[2] >= 'A' && p[2] <= 'Z')) p = strstr(p + 2, "vk");
    size_t len = 0;
    if (p)
        while (len < sizeof fn - 1 && (p[len] == '_' || (p[len] >= 'a' && p[len] <= 'z') || (p[len] >= 'A' && p[len] <= 'Z') ||
                                       (p[len] >= '0' && p[len] <= '9')))
            len++;
    snprintf(fn, sizeof fn, "%.*s", (int)len, p ? p : call);
    pf_status s = PF_ERR_BACKEND;
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) s = PF_ERR_OOM;
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_EXTENSION_NOT_PRESENT || r == VK_ERROR_FEATURE_NOT_PRESENT ||
        r == VK_ERROR_LAYER_NOT_PRESENT)
        s = PF_ERR_UNSUPPORTED;
    if (r == VK_ERROR_DEVICE_LOST) /* usually a driver timeout on one long submission */
        return pf_error(s, "vulkan: %s (%s): %s (if the driver timed out, lower PF_VK_MAX_NODES_PER_SUBMIT or "
                           "PF_VK_MAX_GFLOPS_PER_SUBMIT)",
                        fn, what, pf_vk_result_str(r));
    return pf_error(s, "vulkan: %s (%s): %s", fn, what, pf_vk_result_str(r));
}

long pf_vk_env_long(const char *name, long def) {
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end) {
        PF_WARN("vulkan: ignoring %s=%s (not an integer)", name, v);
        return def;
    }
    return x;
}

/* ---------------------------------------------------------------- instance */

static VKAPI_ATTR VkBool32 VKAPI_CALL pf_vk_debug_cb(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                     VkDebugUtilsMessageTypeFlagsEXT type,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)type;
    (void)user;
    const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
    if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
        atomic_fetch_add(&pf_vk_validation_errors, 1);
        pf_log(PF_LOG_ERROR, "vulkan validation: %s", msg);
    } else if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        atomic_fetch_add(&pf_vk_validation_errors, 1);
        pf_log(PF_LOG_WARN, "vulkan validation: %s", msg);
    } else {
        pf_log(PF_LOG_DEBUG, "vulkan validation: %s", msg);
    }
    return VK_FALSE;
}

static bool pf_vk_has_layer(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || !n) return false;
    VkLayerProperties *p = calloc(n, sizeof *p);
    if (!p) return false;
    bool found = false;
    if (vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].layerName, name);
    free(p);
    return found;
}

static bool pf_vk_has_instance_ext(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS || !n) return false;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    if (!p) return false;
    bool found = false;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].extensionName, name);
    free(p);
    return found;
}

/* Whether to run with validation layers: PF_VK_VALIDATE=0/1, else on in Debug builds. */
static bool pf_vk_want_validation(void) { return pf_vk_env_long("PF_VK_VALIDATE", PF_VK_VALIDATE_DEFAULT) != 0; }

static pf_status pf_vk_instance_acquire(VkInstance *out, bool *validates) {
    pthread_mutex_lock(&pf_vk_instance_lock);
    pf_status rc = PF_OK;
    if (pf_vk_instance_refs > 0) goto done;

    VkResult r = volkInitialize();
    if (r != VK_SUCCESS) {
        rc = pf_error(PF_ERR_UNSUPPORTED, "vulkan: no Vulkan loader (libvulkan.so.1 could not be loaded)");
        goto out;
    }
    uint32_t loader_version = VK_API_VERSION_1_0;
    if (vkEnumerateInstanceVersion) vkEnumerateInstanceVersion(&loader_version);
    if (loader_version < VK_API_VERSION_1_1) {
        rc = pf_error(PF_ERR_UNSUPPORTED, "vulkan: the Vulkan loader is version %u.%u; pflow needs 1.1 or later",
                      VK_API_VERSION_MAJOR(loader_version), VK_API_VERSION_MINOR(loader_version));
        goto out;
    }
    const char *layers[1];
    uint32_t n_layers = 0;
    const char *exts[4];
    uint32_t n_exts = 0;
    bool validate = pf_vk_want_validation();
    if (validate) {
        if (pf_vk_has_layer("VK_LAYER_KHRONOS_validation")) {
            layers[n_layers++] = "VK_LAYER_KHRONOS_validation";
            if (pf_vk_has_instance_ext(VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
                exts[n_exts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        } else {
            PF_WARN("vulkan: validation requested but VK_LAYER_KHRONOS_validation is not installed");
            validate = false;
        }
    }
    VkInstanceCreateFlags flags = 0;
    if (pf_vk_has_instance_ext(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        /* MoltenVK and other portability drivers only enumerate with this */
        exts[n_exts++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "pflow",
        .applicationVersion = VK_MAKE_API_VERSION(0, PF_VERSION_MAJOR, PF_VERSION_MINOR, PF_VERSION_PATCH),
        .pEngineName = "pflow",
        .apiVersion = loader_version >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : loader_version,
    };
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledLayerCount = n_layers,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = n_exts,
        .ppEnabledExtensionNames = exts,
    };
    r = vkCreateInstance(&ici, NULL, &pf_vk_instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
        rc = pf_error(PF_ERR_UNSUPPORTED,
                      "vulkan: no Vulkan driver is installed (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER)");
        goto out;
    }
    if (r != VK_SUCCESS) {
        rc = pf_vk_fail(r, "vkCreateInstance", "API %u.%u, %u layers, %u extensions", VK_API_VERSION_MAJOR(app.apiVersion),
                        VK_API_VERSION_MINOR(app.apiVersion), n_layers, n_exts);
        if (rc == PF_ERR_BACKEND) rc = PF_ERR_UNSUPPORTED;
        goto out;
    }
    volkLoadInstanceOnly(pf_vk_instance);
    pf_vk_instance_validates = validate;
    if (validate && n_exts && vkCreateDebugUtilsMessengerEXT) {
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = pf_vk_debug_cb,
        };
        if (vkCreateDebugUtilsMessengerEXT(pf_vk_instance, &mi, NULL, &pf_vk_messenger) != VK_SUCCESS)
            pf_vk_messenger = VK_NULL_HANDLE;
    }
done:
    pf_vk_instance_refs++;
    *out = pf_vk_instance;
    *validates = pf_vk_instance_validates;
out:
    pthread_mutex_unlock(&pf_vk_instance_lock);
    return rc;
}

static void pf_vk_instance_release(void) {
    pthread_mutex_lock(&pf_vk_instance_lock);
    if (pf_vk_instance_refs > 0 && --pf_vk_instance_refs == 0) {
        if (pf_vk_messenger) vkDestroyDebugUtilsMessengerEXT(pf_vk_instance, pf_vk_messenger, NULL);
        pf_vk_messenger = VK_NULL_HANDLE;
        vkDestroyInstance(pf_vk_instance, NULL);
        pf_vk_instance = VK_NULL_HANDLE;
    }
    pthread_mutex_unlock(&pf_vk_instance_lock);
}

/* ---------------------------------------------------------------- device */

static const char *pf_vk_type_name(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

static int pf_vk_type_rank(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

static bool pf_vk_has_device_ext(VkPhysicalDevice pd, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || !n) return false;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    if (!p) return false;
    bool found = false;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].extensionName, name);
    free(p);
    return found;
}

/* Device list for messages and get_info ("0: llvmpipe (CPU), 1: ..."). */
static void pf_vk_list_devices(VkPhysicalDevice *pds, uint32_t n, char *buf, size_t len) {
    size_t o = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < n && o < len; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(pds[i], &p);
        o += (size_t)snprintf(buf + o, len - o, "%s%u: %s (%s)", i ? ", " : "", i, p.deviceName,
                              pf_vk_type_name(p.deviceType));
    }
}

pf_status pf_vk_device_open(pf_vk_ctx *c, int device_index) {
    bool validates = false;
    PF_TRY(pf_vk_instance_acquire(&c->instance, &validates));
    c->validate = validates;

    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(c->instance, &n, NULL);
    if (r != VK_SUCCESS) return pf_vk_fail(r, "vkEnumeratePhysicalDevices", "counting devices");
    if (n == 0) return pf_error(PF_ERR_UNSUPPORTED, "vulkan: the Vulkan driver reports no devices");
    VkPhysicalDevice *pds = calloc(n, sizeof *pds);
    if (!pds) return pf_error(PF_ERR_OOM, "out of host memory (device list)");
    r = vkEnumeratePhysicalDevices(c->instance, &n, pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(pds);
        return pf_vk_fail(r, "vkEnumeratePhysicalDevices", "%u devices", n);
    }
    char list[512];
    pf_vk_list_devices(pds, n, list, sizeof list);
    c->n_devices = (int)n;

    /* explicit index (option, then PF_VK_DEVICE), else the best type, first of equals */
    int idx = device_index;
    if (idx < 0) idx = (int)pf_vk_env_long("PF_VK_DEVICE", -1);
    if (idx >= (int)n) {
        free(pds);
        return pf_error(PF_ERR_INVALID_ARG, "vulkan: device %d requested but there are %u (%s)", idx, n, list);
    }
    if (idx < 0) {
        int best = -1;
        for (uint32_t i = 0; i < n; i++) {
            VkPhysicalDeviceProperties p;
            vkGetPhysicalDeviceProperties(pds[i], &p);
            if (p.apiVersion < VK_API_VERSION_1_1) continue;
            int rank = pf_vk_type_rank(p.deviceType);
            if (best < 0 || rank > best) {
                best = rank;
                idx = (int)i;
            }
        }
        if (idx < 0) {
            free(pds);
            return pf_error(PF_ERR_UNSUPPORTED, "vulkan: no device supports Vulkan 1.1 (%s)", list);
        }
    }
    c->phys = pds[idx];
    c->device_index = idx;
    free(pds);

    VkPhysicalDevice pd = c->phys;
    vkGetPhysicalDeviceProperties(pd, &c->props);
    vkGetPhysicalDeviceMemoryProperties(pd, &c->memprops);
    c->api_version = c->props.apiVersion;
    if (c->api_version < VK_API_VERSION_1_1)
        return pf_error(PF_ERR_UNSUPPORTED, "vulkan: device %d '%s' supports only Vulkan %u.%u (1.1 needed)", idx,
                        c->props.deviceName, VK_API_VERSION_MAJOR(c->api_version), VK_API_VERSION_MINOR(c->api_version));

    bool has_maint4 = c->api_version >= VK_API_VERSION_1_3 || pf_vk_has_device_ext(pd, VK_KHR_MAINTENANCE_4_EXTENSION_NAME);
    c->push_descriptors = pf_vk_has_device_ext(pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME) &&
                          pf_vk_env_long("PF_VK_NO_PUSH_DESCRIPTORS", 0) == 0;
    c->memory_budget = pf_vk_has_device_ext(pd, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);

    /* limits through the properties2 chain */
    VkPhysicalDeviceSubgroupProperties sgp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
                                                 .pNext = &sgp};
    VkPhysicalDeviceMaintenance4Properties m4 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES,
                                                 .pNext = &m3};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = has_maint4 ? (void *)&m4 : (void *)&m3};
    vkGetPhysicalDeviceProperties2(pd, &p2);
    const VkPhysicalDeviceLimits *lim = &c->props.limits;
    c->max_storage_range = lim->maxStorageBufferRange;
    c->max_alloc = m3.maxMemoryAllocationSize ? m3.maxMemoryAllocationSize : ((VkDeviceSize)1 << 31);
    c->max_buffer = has_maint4 && m4.maxBufferSize ? m4.maxBufferSize : c->max_alloc;
    c->max_shared = lim->maxComputeSharedMemorySize;
    c->max_wg_invocations = lim->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) c->max_groups[i] = lim->maxComputeWorkGroupCount[i];
    /* test knob: a tiny x limit sends every large dispatch through the x/y split */
    long gx = pf_vk_env_long("PF_VK_MAX_GROUPS_X", 0);
    if (gx > 0 && (uint32_t)gx < c->max_groups[0]) c->max_groups[0] = (uint32_t)gx;
    c->subgroup_size = sgp.subgroupSize;
    c->subgroup_arith = (sgp.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                        (sgp.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                        (sgp.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT) &&
                        pf_vk_env_long("PF_VK_NO_SUBGROUP", 0) == 0;

    /* 16-bit storage carries bf16 and f16 tensors: every shader declares 16-bit views */
    VkPhysicalDevice16BitStorageFeatures f16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f16};
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    if (!f16.storageBuffer16BitAccess)
        return pf_error(PF_ERR_UNSUPPORTED,
                        "vulkan: device %d '%s' lacks storageBuffer16BitAccess (VK_KHR_16bit_storage), which pflow's "
                        "shaders need for bf16/f16 tensors",
                        idx, c->props.deviceName);
    if (c->max_shared < 16384 || c->max_wg_invocations < 256)
        return pf_error(PF_ERR_UNSUPPORTED,
                        "vulkan: device %d '%s' allows %u bytes of shared memory and %u invocations per workgroup "
                        "(16384 and 256 needed)",
                        idx, c->props.deviceName, c->max_shared, c->max_wg_invocations);

    /* a queue family with compute; prefer one without graphics (dedicated compute) */
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
    VkQueueFamilyProperties *qf = calloc(nq ? nq : 1, sizeof *qf);
    if (!qf) return pf_error(PF_ERR_OOM, "out of host memory (queue families)");
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
    int fam = -1;
    for (uint32_t i = 0; i < nq; i++) {
        if (!(qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || !qf[i].queueCount) continue;
        if (fam < 0 || ((qf[fam].queueFlags & VK_QUEUE_GRAPHICS_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
            fam = (int)i;
    }
    if (fam < 0) {
        free(qf);
        return pf_error(PF_ERR_UNSUPPORTED, "vulkan: device %d '%s' has no compute queue", idx, c->props.deviceName);
    }
    c->qfam = (uint32_t)fam;
    c->timestamps = qf[fam].timestampValidBits > 0 && lim->timestampPeriod > 0;
    c->timestamp_period_ns = lim->timestampPeriod;
    free(qf);

    const char *dexts[4];
    uint32_t n_dexts = 0;
    if (c->push_descriptors) dexts[n_dexts++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
    if (c->memory_budget) dexts[n_dexts++] = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
    if (has_maint4 && c->api_version < VK_API_VERSION_1_3) dexts[n_dexts++] = VK_KHR_MAINTENANCE_4_EXTENSION_NAME;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = c->qfam,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkPhysicalDevice16BitStorageFeatures en16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                                 .storageBuffer16BitAccess = VK_TRUE};
    VkPhysicalDeviceFeatures2 en = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &en16};
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &en,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = n_dexts,
        .ppEnabledExtensionNames = dexts,
    };
    r = vkCreateDevice(pd, &dci, NULL, &c->dev);
    if (r != VK_SUCCESS) {
        c->dev = VK_NULL_HANDLE;
        return pf_vk_fail(r, "vkCreateDevice", "device %d '%s', %u extensions", idx, c->props.deviceName, n_dexts);
    }
    volkLoadDeviceTable(&c->vk, c->dev);
    c->vk.vkGetDeviceQueue(c->dev, c->qfam, 0, &c->queue);

    char drv[64] = "";
    VkPhysicalDeviceDriverProperties dp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    if (c->api_version >= VK_API_VERSION_1_2) {
        VkPhysicalDeviceProperties2 pp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &dp};
        vkGetPhysicalDeviceProperties2(pd, &pp);
        snprintf(drv, sizeof drv, ", %.24s %.32s", dp.driverName, dp.driverInfo);
    }
    bool llvmpipe = dp.driverID == VK_DRIVER_ID_MESA_LLVMPIPE || strstr(c->props.deviceName, "llvmpipe") != NULL;
    c->loop_limit = pf_vk_env_long("PF_VK_LOOP_LIMIT", llvmpipe ? 65535 : 0);
    int o = snprintf(c->desc, sizeof c->desc, "%s (%s, Vulkan %u.%u%s; device %d of %u", c->props.deviceName,
                     pf_vk_type_name(c->props.deviceType), VK_API_VERSION_MAJOR(c->api_version),
                     VK_API_VERSION_MINOR(c->api_version), drv, idx, n);
    if (n > 1 && o > 0 && (size_t)o < sizeof c->desc) o += snprintf(c->desc + o, sizeof c->desc - (size_t)o, ": %s", list);
    if (o > 0 && (size_t)o < sizeof c->desc) snprintf(c->desc + o, sizeof c->desc - (size_t)o, ")");
    PF_DEBUG("vulkan: %s; subgroup %u%s, shared %u B, storage range %llu, max alloc %llu, push descriptors %s%s",
             c->desc, c->subgroup_size, c->subgroup_arith ? " (arithmetic)" : "", c->max_shared,
             (unsigned long long)c->max_storage_range, (unsigned long long)c->max_alloc,
             c->push_descriptors ? "yes" : "no", c->validate ? ", validation on" : "");
    return PF_OK;
}

void pf_vk_device_close(pf_vk_ctx *c) {
    if (c->dev) {
        c->vk.vkDeviceWaitIdle(c->dev);
        c->vk.vkDestroyDevice(c->dev, NULL);
        c->dev = VK_NULL_HANDLE;
    }
    if (c->instance) {
        pf_vk_instance_release();
        c->instance = VK_NULL_HANDLE;
    }
}
