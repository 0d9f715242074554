// main.bicep provisions invitegate in one resource group: the Linux Function App
// that runs the Go custom handler Entra External ID calls on
// OnAttributeCollectionStart/Submit, the Table Storage holding the invitations,
// and the monitoring behind them.
//
// infra/main.json is this template in ARM JSON. It was written by hand, because
// no Bicep CLI could be installed where it was made: change the two together
// (or regenerate it with `az bicep build --file infra/main.bicep --outfile infra/main.json`).
// internal/deploytest checks that both declare the same resources, parameters
// (with their decorators), outputs and literal values, and checks main.json
// against Microsoft's published resource schemas (bicep-types-az).
//
// Two storage accounts, on purpose:
//   invitations (stinv…)  the data. Entra ID only (shared keys off); the app's
//                         identity gets Storage Table Data Contributor on the
//                         invitations table alone, nothing on the account.
//   host (sthost…)        what the Functions host needs: its own blobs (keys, locks)
//                         and, on Flex, the deployment container the package is
//                         uploaded to; the identity gets Storage Blob Data Owner here.
// So the blob rights the host needs never reach the invitation data, and on
// Premium (whose Azure Files content share needs an account key) the key that
// sits in an app setting opens only the host account.

targetScope = 'resourceGroup'

@description('Prefix of every resource name: 3-40 of a-z, 0-9 and -, starting and ending with a letter or digit. The function app is <namePrefix>-func, so its default host is <namePrefix>-func.azurewebsites.net.')
@minLength(3)
@maxLength(40)
@metadata({
  pattern: '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'
})
param namePrefix string

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('flex: Flex Consumption (FC1) with always-ready instances; premium: Elastic Premium (EP1), always warm, billed per hour.')
@allowed([
  'flex'
  'premium'
])
param plan string = 'flex'

@description('Flex only: always-ready instances of the http scale group. Keep at least 1: Entra waits at most 2 s for an answer, less than a cold start can take.')
@minValue(0)
@maxValue(20)
param alwaysReadyInstances int = 1

@description('Flex only: memory of each instance, in MB (the sizes the Flex Consumption stack offers for custom handlers).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Flex only: the most instances the app may scale out to. Flex Consumption takes 40 to 1000.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Premium only: the most instances the plan may scale out to (maximumElasticWorkerCount).')
@minValue(1)
@maxValue(100)
param maximumElasticWorkerCount int = 20

@description('Table that holds the invitations: 3-63 letters and digits, starting with a letter.')
@minLength(3)
@maxLength(63)
@metadata({
  pattern: '^[A-Za-z][A-Za-z0-9]{2,62}$'
})
param invitationsTable string = 'invitations'

@description('Directory (tenant) ID of the Entra External ID tenant whose tokens the handler accepts (ENTRA_TENANT_ID).')
param entraTenantId string

@description('Application (client) ID of the extension\'s app registration: the audience of the tokens Entra sends (ENTRA_AUDIENCE).')
param entraAudience string

@description('Token issuer, when not the default https://<tenant>.ciamlogin.com/<tenant>/v2.0 (ENTRA_AUTHORITY). Empty: leave the setting out.')
param entraAuthority string = ''

@description('Federated identity providers whose email attribute the gate trusts as the person\'s address (INVITE_EMAIL_ISSUERS): issuers as Entra names them in identities, comma-separated, such as google.com,facebook.com; none: local accounts only.')
param emailIssuers string = 'google.com'

@description('How long an approved start admits its submit (INVITE_SIGNUP_WINDOW): whole hours, minutes and seconds, from 1m to 24h, such as 30m or 1h30m.')
@metadata({
  pattern: '^(([0-9]{1,5})h)?(([0-9]{1,5})m)?(([0-9]{1,5})s)?$'
})
param signupWindow string = '30m'

@description('Key of the email digest (email_hash) in the decision logs (INVITE_LOG_HASH_KEY): at least 16 random characters, or an App Service Key Vault reference @Microsoft.KeyVault(SecretUri=...) to a secret the app\'s identity may read. Empty: leave the setting out; the logs then carry no digest.')
@secure()
param logHashKey string = ''

@description('timeoutInMilliseconds of the two custom authentication extensions (register-entra.sh --timeout-ms). The latency alert fires when the 95th percentile of decision times passes half of it.')
@minValue(200)
@maxValue(2000)
param entraTimeoutMs int = 1000

@description('Email address the alerts are sent to. Empty: the alerts still fire and show in Azure Monitor, but notify no one.')
param alertEmail string = ''

var isFlex = plan == 'flex'
var token = uniqueString(resourceGroup().id, namePrefix)
var functionAppName = '${namePrefix}-func'
var hostingPlanName = '${namePrefix}-plan'
var workspaceName = '${namePrefix}-logs'
var appInsightsName = '${namePrefix}-appi'
var actionGroupName = '${namePrefix}-alerts'
var invitationsStorageName = 'stinv${token}'
var hostStorageName = 'sthost${token}'
var deploymentContainerName = 'app-package'
var invitationsTableServiceUrl = 'https://${invitationsStorageName}.table.${environment().suffixes.storage}'

// Built-in role definition IDs.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

// Flex Consumption: the runtime, scale and deployment package live here instead
// of in app settings. Runtime custom 1.0, the memory sizes and the 40-1000
// range of maximumInstanceCount are those of the Functions stack record for
// custom handlers on FC1; deploy.sh checks that the region offers custom 1.0
// (az functionapp list-flexconsumption-runtimes) before it changes anything.
var flexFunctionAppConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: 'https://${hostStorageName}.blob.${environment().suffixes.storage}/${deploymentContainerName}'
      authentication: {
        type: 'SystemAssignedIdentity'
      }
    }
  }
  scaleAndConcurrency: {
    alwaysReady: alwaysReadyInstances > 0 ? [
      {
        name: 'http'
        instanceCount: alwaysReadyInstances
      }
    ] : []
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
  runtime: {
    name: 'custom'
    version: '1.0'
  }
}

// The settings the handler reads (see local.settings.json.example), plus the
// identity-based host storage. Azure replaces all app settings on each
// deployment, so every value the app needs is listed here.
var handlerAppSettings = [
  {
    name: 'AzureWebJobsStorage__accountName'
    value: hostStorageName
  }
  {
    name: 'INVITATIONS_TABLE'
    value: invitationsTable
  }
  {
    name: 'INVITATIONS_TABLE_SERVICE_URL'
    value: invitationsTableServiceUrl
  }
  {
    name: 'ENTRA_AUTH'
    value: 'jwt'
  }
  {
    name: 'ENTRA_TENANT_ID'
    value: entraTenantId
  }
  {
    name: 'ENTRA_AUDIENCE'
    value: entraAudience
  }
  {
    name: 'INVITE_EMAIL_ISSUERS'
    value: emailIssuers
  }
  {
    name: 'INVITE_SIGNUP_WINDOW'
    value: signupWindow
  }
]
var entraAuthoritySettings = empty(entraAuthority) ? [] : [
  {
    name: 'ENTRA_AUTHORITY'
    value: entraAuthority
  }
]
// Like ENTRA_AUTHORITY, written only when given: without it the logs carry no
// digest. A secret, so the parameter is @secure() and never an output.
var logHashKeySettings = empty(logHashKey) ? [] : [
  {
    name: 'INVITE_LOG_HASH_KEY'
    value: logHashKey
  }
]
var alertEmailReceivers = empty(alertEmail) ? [] : [
  {
    name: 'operator'
    emailAddress: alertEmail
    useCommonAlertSchema: true
  }
]

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

// Telemetry is accepted only with an Entra token: the app sends it with its
// managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING below and the
// Monitoring Metrics Publisher role at the end), never with the key in the
// connection string.
resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

// Where the alerts go: an email receiver when alertEmail is set, none otherwise.
resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  properties: {
    groupShortName: 'invitegate'
    enabled: true
    emailReceivers: alertEmailReceivers
  }
}

// The operator's view of the decision log (docs/operating.md). Its queries
// are infra/queries/*.kql; infra/workbook.json is generated from them.
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, namePrefix, 'workbook')
  location: location
  kind: 'shared'
  properties: {
    displayName: 'invitegate: sign-up decisions'
    category: 'workbook'
    sourceId: appInsights.id
    version: 'Notebook/1.0'
    serializedData: loadTextContent('workbook.json')
  }
}

// Four log alerts over the handler's log lines in Application Insights.
// What each means and what to check first: README, "Operating".
resource unavailableAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-unavailable'
  location: location
  kind: 'LogAlert'
  properties: {
    displayName: 'invitegate: sign-ups answered "unavailable"'
    description: 'In the last 5 minutes, sign-ups got the "can\'t check invitations right now" page: the invitation store is down, slow or missing its table, or the gate is at its in-flight bound.'
    severity: 1
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: loadTextContent('queries/alert-unavailable.kql')
          timeAggregation: 'Total'
          metricMeasureColumn: 'unavailable'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource unauthorizedAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-unauthorized'
  location: location
  kind: 'LogAlert'
  properties: {
    displayName: 'invitegate: burst of 401s'
    description: 'More than 10 requests refused with 401 in 5 minutes: a wrong audience, tenant or issuer after a change (every sign-up fails), or someone probing the endpoint.'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: loadTextContent('queries/alert-unauthorized.kql')
          timeAggregation: 'Total'
          metricMeasureColumn: 'unauthorized'
          operator: 'GreaterThan'
          threshold: 10
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource latencyAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-latency'
  location: location
  kind: 'LogAlert'
  properties: {
    displayName: 'invitegate: slow decisions'
    description: 'The 95th percentile of decision times over 15 minutes is above half of Entra\'s timeout (entraTimeoutMs / 2): sign-ups are close to failing with 1003005.'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: loadTextContent('queries/alert-latency.kql')
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'p95'
          operator: 'GreaterThan'
          threshold: entraTimeoutMs / 2
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource restartsAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-restarts'
  location: location
  kind: 'LogAlert'
  properties: {
    displayName: 'invitegate: handler restarting'
    description: 'One instance started the handler more than twice in 30 minutes: it keeps exiting (crash, bad setting). The Functions host stops restarting it after repeated failures.'
    severity: 1
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT30M'
    criteria: {
      allOf: [
        {
          query: loadTextContent('queries/alert-restarts.kql')
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'most_starts'
          operator: 'GreaterThan'
          threshold: 2
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource invitationsStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: invitationsStorageName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
  }
}

resource invitationsTableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: invitationsStorage
  name: 'default'
}

resource invitationsTableResource 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: invitationsTableService
  name: invitationsTable
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: hostStorageName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Premium keeps the app's files on an Azure Files share, which only takes an account key.
    allowSharedKeyAccess: !isFlex
    defaultToOAuthAuthentication: true
  }
}

resource hostBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: hostStorage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = if (isFlex) {
  parent: hostBlobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource hostingPlan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: hostingPlanName
  location: location
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? {
    name: 'FC1'
    tier: 'FlexConsumption'
  } : {
    name: 'EP1'
    tier: 'ElasticPremium'
  }
  properties: {
    reserved: true // Linux
    maximumElasticWorkerCount: isFlex ? null : maximumElasticWorkerCount
  }
}

// These read values that exist only at deployment time, so the ARM form
// inlines them where they are used.
var monitoringAppSettings = [
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
  {
    // Send telemetry with the system-assigned identity: the resource takes no key.
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'Authorization=AAD'
  }
]
// Premium runs the classic way: the runtime in app settings and the app's files
// on an Azure Files share, which takes only an account key. WEBSITE_CONTENTSHARE
// is left out, as the Functions app settings reference recommends for template
// deployments: the platform then creates a unique, valid share name itself.
var premiumAppSettings = [
  {
    name: 'FUNCTIONS_EXTENSION_VERSION'
    value: '~4'
  }
  {
    name: 'FUNCTIONS_WORKER_RUNTIME'
    value: 'custom'
  }
  {
    name: 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING'
    value: 'DefaultEndpointsProtocol=https;AccountName=${hostStorageName};EndpointSuffix=${environment().suffixes.storage};AccountKey=${hostStorage.listKeys().keys[0].value}'
  }
  {
    // Run the zip as published (mounted read-only), as on Flex, instead of unpacking it.
    name: 'WEBSITE_RUN_FROM_PACKAGE'
    value: '1'
  }
]

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: hostingPlan.id
    httpsOnly: true
    functionAppConfig: isFlex ? flexFunctionAppConfig : null
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat(monitoringAppSettings, handlerAppSettings, entraAuthoritySettings, logHashKeySettings, isFlex ? [] : premiumAppSettings)
    }
  }
  dependsOn: [
    deploymentContainer
  ]
}

// No publishing with user name and password: deployments authenticate with
// Entra ID (az, func and the GitHub workflow all do).
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

// The handler reads and updates invitations: Storage Table Data Contributor on
// the invitations table, and no right on the rest of the account.
resource invitationsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(invitationsTableResource.id, functionApp.id, storageTableDataContributor)
  scope: invitationsTableResource
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// The Functions host connects to its storage with the same identity
// (AzureWebJobsStorage__accountName): it keeps its keys and locks in blobs and,
// on Flex, reads the deployment package from the container above. Storage Blob
// Data Owner is the role Microsoft documents for identity-based AzureWebJobsStorage.
resource hostRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, functionApp.id, storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Monitoring Metrics Publisher on Application Insights is what Entra-only
// ingestion requires of the sender (despite its name it covers all telemetry).
resource telemetryRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionApp.id, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

@description('Name of the function app.')
output functionAppName string = functionApp.name

@description('Default host name of the function app: the host in the extension app registration\'s identifier URI.')
output defaultHostName string = functionApp.properties.defaultHostName

@description('targetUrl of the OnAttributeCollectionStart custom authentication extension.')
output attributeStartUrl string = 'https://${functionApp.properties.defaultHostName}/api/attributeStart'

@description('targetUrl of the OnAttributeCollectionSubmit custom authentication extension.')
output attributeSubmitUrl string = 'https://${functionApp.properties.defaultHostName}/api/attributeSubmit'

@description('Storage account that holds the invitations table.')
output storageAccountName string = invitationsStorage.name

@description('Table service URL of the invitations account (INVITATIONS_TABLE_SERVICE_URL), for invitectl.')
output invitationsTableServiceUrl string = invitationsTableServiceUrl
