// main.bicep provisions invitegate in one resource group: the Linux Function App
// that runs the Go custom handler Entra External ID calls on
// OnAttributeCollectionStart/Submit, the Table Storage holding the invitations,
// and the monitoring behind them.
//
// infra/main.json is this template in ARM JSON. It was written by hand, because
// no Bicep CLI could be installed where it was made: change the two together
// (or regenerate it with `az bicep build --file infra/main.bicep --outfile infra/main.json`).
// internal/deploytest checks that both declare the same resources, parameters and outputs.
//
// Two storage accounts, on purpose:
//   invitations (stinv…)  the data. Entra ID only (shared keys off); the app's
//                         identity gets Storage Table Data Contributor here and nothing else.
//   host (sthost…)        what the Functions host needs: its own blobs (keys, locks)
//                         and, on Flex, the deployment container the package is
//                         uploaded to; the identity gets Storage Blob Data Owner here.
// So the blob rights the host needs never reach the invitation data, and on
// Premium (whose Azure Files content share needs an account key) the key that
// sits in an app setting opens only the host account.

targetScope = 'resourceGroup'

@description('Prefix of every resource name. The function app is <namePrefix>-func, so its default host is <namePrefix>-func.azurewebsites.net.')
@minLength(3)
@maxLength(40)
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

@description('Flex only: memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Flex only: the most instances the app may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Table that holds the invitations.')
param invitationsTable string = 'invitations'

@description('Directory (tenant) ID of the Entra External ID tenant whose tokens the handler accepts (ENTRA_TENANT_ID).')
param entraTenantId string

@description('Application (client) ID of the extension\'s app registration: the audience of the tokens Entra sends (ENTRA_AUDIENCE).')
param entraAudience string

@description('Token issuer, when not the default https://<tenant>.ciamlogin.com/<tenant>/v2.0 (ENTRA_AUTHORITY). Empty: leave the setting out.')
param entraAuthority string = ''

var isFlex = plan == 'flex'
var token = uniqueString(resourceGroup().id, namePrefix)
var functionAppName = '${namePrefix}-func'
var hostingPlanName = '${namePrefix}-plan'
var workspaceName = '${namePrefix}-logs'
var appInsightsName = '${namePrefix}-appi'
var invitationsStorageName = 'stinv${token}'
var hostStorageName = 'sthost${token}'
var deploymentContainerName = 'app-package'
var invitationsTableServiceUrl = 'https://${invitationsStorageName}.table.${environment().suffixes.storage}'

// Built-in role definition IDs.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'

// Flex Consumption: the runtime, scale and deployment package live here instead
// of in app settings. runtime.version '1.0' for 'custom' is UNCONFIRMED (taken
// from a public Flex custom-handler sample); the regional list of Flex runtimes
// (`az functionapp list-flexconsumption-runtimes --location <region> --runtime custom`,
// command name unverified) should show it.
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
]
var entraAuthoritySettings = empty(entraAuthority) ? [] : [
  {
    name: 'ENTRA_AUTHORITY'
    value: entraAuthority
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

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
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
  }
}

// These two read values that exist only at deployment time, so the ARM form
// inlines them where they are used.
var monitoringAppSettings = [
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
]
// Premium runs the classic way: the runtime in app settings and the app's files
// on an Azure Files share, which takes only an account key.
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
    name: 'WEBSITE_CONTENTSHARE'
    value: toLower(functionAppName)
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
      appSettings: concat(monitoringAppSettings, handlerAppSettings, entraAuthoritySettings, isFlex ? [] : premiumAppSettings)
    }
  }
  dependsOn: [
    deploymentContainer
  ]
}

// The handler reads and updates invitations: Storage Table Data Contributor on
// the invitations account, and no other right on it.
resource invitationsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(invitationsStorage.id, functionApp.id, storageTableDataContributor)
  scope: invitationsStorage
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
