# NOTE: seed page 001 has NO Python sample (JavaScript only); this script mirrors its JavaScript sample
# in the style of the other pages' Python `requests` samples.
"""Python equivalent of the JavaScript sample on seed page shared/seeds/001_2f937016e6412974.txt (Delete task)."""
import requests
import json
import os

access_token = os.environ.get('TALLYFY_ACCESS_TOKEN', 'YOUR_PERSONAL_ACCESS_TOKEN')
org_id = os.environ.get('TALLYFY_ORG_ID', 'YOUR_ORGANIZATION_ID')
task_id = os.environ['TALLYFY_TASK_ID']
base = os.environ['TALLYFY_API_BASE']
api_url = f'{base}/organizations/{org_id}/tasks/{task_id}/delete' # Note the /delete path segment

headers = {
    'Authorization': f'Bearer {access_token}',
    'Accept': 'application/json',
    'X-Tallyfy-Client': 'APIClient'
}

try:
    response = requests.delete(api_url, headers=headers)

    # Expect 204 No Content for successful deletion
    if response.status_code == 204:
        print(f'Successfully permanently deleted one-off task {task_id}. Status: {response.status_code}')
        # No body expected for 204
    else:
        # Try to parse error JSON, fallback to text
        try:
            err_data = json.dumps(response.json())
        except ValueError:
            err_data = response.text
        print(f"Failed to delete task {task_id}. Status: {response.status_code} {err_data}")
        print(f"Error deleting one-off task {task_id}: HTTP error! status: {response.status_code}")

except requests.exceptions.RequestException as e:
    print(f"Error deleting one-off task {task_id}: {e}")
