"""Python sample from seed page shared/seeds/003_6bd354ba392d612b.txt (Get file metadata)."""
import requests
import json
import os

access_token = os.environ.get('TALLYFY_ACCESS_TOKEN', 'YOUR_PERSONAL_ACCESS_TOKEN')
org_id = os.environ.get('TALLYFY_ORG_ID', 'YOUR_ORGANIZATION_ID')
asset_id = os.environ['TALLYFY_ASSET_ID']
base = os.environ['TALLYFY_API_BASE']
api_url = f'{base}/organizations/{org_id}/assets/{asset_id}'

headers = {
    'Authorization': f'Bearer {access_token}',
    'Accept': 'application/json',
    'X-Tallyfy-Client': 'APIClient'
}

response = None
try:
    response = requests.get(api_url, headers=headers)
    response.raise_for_status() # Raises HTTPError for bad responses (4xx or 5xx)

    metadata = response.json()
    print(f'Successfully retrieved metadata for asset {asset_id}:')
    print(json.dumps(metadata, indent=4))

except requests.exceptions.HTTPError as http_err:
    print(f"HTTP error occurred for asset {asset_id}: {http_err}")
    if response is not None:
        print(f"Response Body: {response.text}")
except requests.exceptions.RequestException as req_err:
    print(f"Request failed for asset {asset_id}: {req_err}")
except json.JSONDecodeError:
    print(f"Failed to decode JSON response for asset {asset_id}")
    if response is not None:
        print(f"Response Text: {response.text}")
except Exception as err:
    print(f"An unexpected error occurred: {err}")
