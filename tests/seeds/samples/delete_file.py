"""Python sample from seed page shared/seeds/000_37053d5e6cb8f24c.txt (Delete file)."""
import requests
import json
import os

access_token = os.environ.get('TALLYFY_ACCESS_TOKEN', 'YOUR_PERSONAL_ACCESS_TOKEN')
org_id = os.environ.get('TALLYFY_ORG_ID', 'YOUR_ORGANIZATION_ID')
asset_id = os.environ['TALLYFY_ASSET_ID']
base = os.environ['TALLYFY_API_BASE']
api_url = f'{base}/organizations/{org_id}/file/{asset_id}'

headers = {
    'Authorization': f'Bearer {access_token}',
    'Accept': 'application/json',
    'X-Tallyfy-Client': 'APIClient'
}

try:
    response = requests.delete(api_url, headers=headers)
    response.raise_for_status() # Expect 200 OK

    print(f'Successfully deleted file/asset {asset_id}. Status: {response.status_code}')
    if response.content:
        try:
            delete_response = response.json()
            print('Delete response details (if returned):')
            print(json.dumps(delete_response, indent=4))
        except json.JSONDecodeError:
            print(f"(Response body: {response.text})")

except requests.exceptions.RequestException as e:
    # Error handling...
    print(f"Request failed: {e}")
